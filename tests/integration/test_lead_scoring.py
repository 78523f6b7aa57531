"""Lead scoring against the running daemon: `first_of: [openai.score, templates.score]` on every
customer message. The model's JSON signals (OpenAI emulator, tests/emulator/ai_provider.py) add the
signal table's points to the contact; prose where JSON was asked for, or a tenant without a key,
is scored by keywords; lead.scored is filed on every change and lead.temperature_changed when the
class moves (both routable like any other event: to a staff alert, a CRM)."""

from __future__ import annotations

import json

from harness import DaemonTestCase
from ai_provider import OpenAIProvider  # noqa: E402 (harness puts the emulator on the path)

OPENAI_KEY = "sk-test-openai-key"


class LeadScoringTest(DaemonTestCase):
    start_automatically = False

    def setUp(self) -> None:
        super().setUp()
        self.openai = self.emulator.add(OpenAIProvider(OPENAI_KEY))

    def start(self, *, key: bool = True) -> None:
        config = self.make_config()
        tenant = config["tenants"]["demo"]
        tenant["plugins"]["openai"] = {"api_key": OPENAI_KEY if key else "",
                                       "base_url": self.emulator.url + "/openai/v1"}
        tenant["routes"] = [
            {"on": "message.received", "run": [{"first_of": [{"stage": "openai.score", "budget": "2s"},
                                                             "templates.score"]}]}]
        self.start_daemon(config)

    def events(self, kind: str) -> list[dict]:
        rows = self.db.query(f"SELECT payload FROM events WHERE type = '{kind}' ORDER BY id")
        return [json.loads(r[0]) for r in rows]

    def wait_events(self, kind: str, count: int) -> list[dict]:
        self.wait(lambda: len(self.events(kind)) >= count, f"{count} {kind} event(s)")
        return self.events(kind)

    def test_model_signals_accumulate_on_the_contact_and_classes_change(self) -> None:
        self.start()
        self.openai.answer_next(
            json.dumps({"signals": ["interested", "urgent"], "sentiment": "positive", "topic": "boots"}),
            json.dumps({"signals": ["budget_mentioned", "decision_maker"], "sentiment": "neutral"}),
            json.dumps({"signals": ["interested", "urgent"], "sentiment": "positive"}))
        contact, _, _ = self.send_text(text="I want those boots, today if possible")
        first = self.wait_events("lead.scored", 1)[0]
        self.assertEqual((first["score"], first["temperature"], first["source"]), (25, "COLD", "OpenAI"))
        self.assertEqual(first["signals"], ["interested", "urgent"])
        self.assertEqual(first["contact"]["provider_id"], contact)
        self.send_text(contact=contact, text="For our office, budget 3 million")
        second = self.wait_events("lead.scored", 2)[1]
        self.assertEqual((second["score"], second["temperature"]), (60, "WARM"))
        self.send_text(contact=contact, text="We'll take 10, need them this week")
        third = self.wait_events("lead.scored", 3)[2]
        self.assertEqual((third["score"], third["temperature"]), (85, "HOT"))
        changes = self.wait_events("lead.temperature_changed", 2)
        self.assertEqual([(c["from"], c["to"]) for c in changes], [("COLD", "WARM"), ("WARM", "HOT")])
        request = self.openai.accepted()[0]
        self.assertEqual(request["response_format"], {"type": "json_object"})
        self.assertEqual(request["messages"][-1], {"role": "user", "content": "I want those boots, today if possible"})
        self.assertNotIn("boots", self.daemon.log())  # message texts never reach the log

    def test_prose_instead_of_json_is_scored_by_keywords(self) -> None:
        self.start()
        self.openai.answer_next("This customer sounds keen to buy.")
        self.send_text(text="I want to buy it, urgent please")
        scored = self.wait_events("lead.scored", 1)[0]
        self.assertEqual((scored["source"], scored["score"]), ("keywords", 25))
        self.assertEqual(scored["signals"], ["interested", "urgent"])

    def test_without_a_key_the_keyword_tier_scores_at_once(self) -> None:
        self.start(key=False)
        self.send_text(text="no thanks, too expensive")
        scored = self.wait_events("lead.scored", 1)[0]
        self.assertEqual((scored["source"], scored["score"], scored["signals"]), ("keywords", -20, ["not_interested"]))
        self.assertEqual(self.openai.requests(), [])
