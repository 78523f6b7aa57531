"""The AI reply chain against the running daemon and the OpenAI / Anthropic emulators
(tests/emulator/ai_provider.py): `first_of: [openai.reply (budget), anthropic.reply (budget),
templates.reply]`. The system prompt and the conversation's turns reach each model in its own
format; a failing or hanging tier hands over to the next within its budget; a tenant without keys
is answered by the templates at once; a kill -9 between generation and send neither asks the
model again nor sends twice."""

from __future__ import annotations

import time

from harness import SOURCE_DIR, DaemonTestCase, http_request, wait_until
from ai_provider import AnthropicProvider, OpenAIProvider  # noqa: E402 (harness puts the emulator on the path)

OPENAI_KEY, ANTHROPIC_KEY = "sk-test-openai-key", "sk-ant-test-key"
PROMPT = "You are the assistant of Nomad Coffee. Answer in one sentence."
BUDGET_S = 2


class AIChainTest(DaemonTestCase):
    start_automatically = False

    def setUp(self) -> None:
        super().setUp()
        self.openai = self.emulator.add(OpenAIProvider(OPENAI_KEY))
        self.anthropic = self.emulator.add(AnthropicProvider(ANTHROPIC_KEY))

    def start(self, *, keys: bool = True, **delivery) -> None:
        config = self.make_config(delivery=delivery or None)
        plugins = config["tenants"]["demo"]["plugins"]
        plugins["openai"] = {"api_key": OPENAI_KEY if keys else "", "base_url": self.emulator.url + "/openai/v1",
                             "system_prompt": PROMPT, "temperature": 0.2}
        plugins["anthropic"] = {"api_key": ANTHROPIC_KEY if keys else "", "base_url": self.emulator.url + "/anthropic",
                                "system_prompt": PROMPT}
        config["tenants"]["demo"]["routes"] = [{"on": "message.received", "run": [{"first_of": [
            {"stage": "openai.reply", "budget": f"{BUDGET_S}s"},
            {"stage": "anthropic.reply", "budget": f"{BUDGET_S}s"},
            "templates.reply"]}]}]
        self.start_daemon(config)

    def test_the_system_prompt_and_the_conversation_reach_openai_and_the_reply_is_sent(self) -> None:
        self.start()
        contact, _, _ = self.send_text(text="Do you have oat milk?")
        first = self.wait_replies(contact)
        self.assertEqual(first[0]["text"], "[openai] Do you have oat milk?")
        self.send_text(contact=contact, text="And how much is a latte?")
        self.wait_replies(contact, 2)
        request = self.openai.accepted()[-1]
        self.assertEqual(request["model"], "gpt-4o-mini")
        self.assertTrue(request["messages"][0]["content"].startswith(PROMPT + "\n"), request["messages"][0])
        self.assertIn("answer with exactly HANDOFF", request["messages"][0]["content"])
        self.assertEqual(request["messages"][1:], [
            {"role": "user", "content": "Do you have oat milk?"},
            {"role": "assistant", "content": "[openai] Do you have oat milk?"},
            {"role": "user", "content": "And how much is a latte?"}])
        self.assertEqual(self.anthropic.requests(), [])
        # What each reply cost is stored with it and counted per tenant and provider.
        usage = self.db.query("SELECT provider, tier, model, prompt_tokens, completion_tokens, reused FROM reply_usage "
                              "ORDER BY id")
        self.assertEqual(usage, [("OpenAI", "reply", "gpt-4o-mini", "20", "6", "0"),
                                 ("OpenAI", "reply", "gpt-4o-mini", "40", "7", "0")])
        metrics = self.metrics_text()
        self.assertIn('switchboard_ai_replies_total{tenant="demo",provider="OpenAI",tier="reply"} 2', metrics)
        self.assertIn('switchboard_ai_tokens_total{tenant="demo",provider="OpenAI",kind="prompt"} 60', metrics)
        self.assertIn('switchboard_ai_latency_seconds_count{tenant="demo",provider="OpenAI"} 2', metrics)
        self.assertNotIn("oat milk", self.daemon.log())  # message texts never reach the log
        self.assertNotIn(OPENAI_KEY, self.daemon.log())

    def test_a_failing_first_tier_is_answered_by_anthropic_in_its_format(self) -> None:
        self.start()
        self.openai.fail(preset="unavailable", count=None)
        contact, _, _ = self.send_text(text="Are you open on Sunday?")
        reply = self.wait_replies(contact)
        self.assertEqual(reply[0]["text"], "[anthropic] Are you open on Sunday?")
        request = self.anthropic.accepted()[0]
        self.assertTrue(request["system"].startswith(PROMPT + "\n"), request["system"])
        self.assertEqual(request["messages"], [{"role": "user", "content": "Are you open on Sunday?"}])
        self.assertEqual(request["headers"]["anthropic-version"], "2023-06-01")

    def test_a_hanging_first_tier_hands_over_within_its_budget(self) -> None:
        self.start()
        self.openai.hang(30, count=None)
        started = time.monotonic()
        contact, _, _ = self.send_text(text="Where are you?")
        reply = self.wait_replies(contact)
        elapsed = time.monotonic() - started
        self.assertEqual(reply[0]["text"], "[anthropic] Where are you?")
        self.assertLess(elapsed, BUDGET_S + 2.5)  # the first tier's budget plus a small margin
        self.assertIn("fell through (late", self.daemon.log())

    def test_without_any_key_the_templates_answer_at_once(self) -> None:
        self.start(keys=False)
        started = time.monotonic()
        contact, _, _ = self.send_text(text="hello")
        reply = self.wait_replies(contact)
        self.assertLess(time.monotonic() - started, 2.0)
        self.assertFalse(reply[0]["text"].startswith("["))  # a template, not a model
        self.assertEqual(self.openai.requests() + self.anthropic.requests(), [])
        self.assertIn("OPENAI_API_KEY", self.daemon.log())

    def test_kill_9_between_generation_and_send_neither_regenerates_nor_double_sends(self) -> None:
        self.start(lease="2s")
        self.graph.hang(60, count=None)  # the send is in flight when the process dies
        contact, _, _ = self.send_text(text="Can I book a table?")
        self.wait(lambda: any(r["outcome"] == "hang" for r in self.graph.requests()), "the reply's send in flight")
        self.daemon.kill()
        self.wait_provider_quiet()
        self.graph.clear_faults()
        self.restart_daemon()
        self.wait_replies(contact)
        self.wait_idle()
        self.assertEqual(len(self.replies_to(contact)), 1)
        self.assertEqual(len(self.openai.requests()), 1)  # generated once
        self.assertEqual(self.db.query("SELECT count(*) FROM reply_usage")[0][0], "1")  # and recorded once

    def test_the_breaker_skips_a_failing_tier_then_probes_it_back(self) -> None:
        self.start(breaker_failures=2, breaker_cooldown="1500ms")
        self.openai.fail(preset="unavailable", count=None)
        contacts = []
        for n in range(4):
            contact, _, _ = self.send_text(text=f"question {n}")
            self.wait_replies(contact)
            contacts.append(contact)
        self.assertEqual(len(self.openai.requests()), 2)  # opened after two failures; the rest skipped it
        metrics = self.metrics_text()
        self.assertIn('switchboard_circuit_breaker_state{tenant="demo",stage="openai.reply"} 1', metrics)
        self.assertIn('reason="open"', metrics)
        self.openai.clear_faults()

        def answered_by_openai() -> bool:  # until the cool-down ends, the next tier answers
            contact, _, _ = self.send_text(text="are you back?")
            return self.wait_replies(contact)[0]["text"] == "[openai] are you back?"
        wait_until(answered_by_openai, timeout=10.0, message="the probe after the cool-down")
        self.assertIn('switchboard_circuit_breaker_state{tenant="demo",stage="openai.reply"} 0', self.metrics_text())

    def test_over_the_monthly_token_budget_the_model_is_not_asked_and_the_templates_answer(self) -> None:
        config = self.make_config()
        tenant = config["tenants"]["demo"]
        tenant["plugins"]["openai"] = {"api_key": OPENAI_KEY, "base_url": self.emulator.url + "/openai/v1",
                                       "monthly_token_budget": 30}
        tenant["routes"] = [{"on": "message.received", "run": [{"first_of": [
            {"stage": "openai.reply", "budget": f"{BUDGET_S}s"}, "templates.reply"]}]}]
        self.start_daemon(config)
        first, _, _ = self.send_text(text="one")      # 20 + 3 tokens: under 30
        self.assertEqual(self.wait_replies(first)[0]["text"], "[openai] one")
        second, _, _ = self.send_text(text="two")     # 23 + 23: over from now on
        self.assertEqual(self.wait_replies(second)[0]["text"], "[openai] two")
        third, _, _ = self.send_text(text="hello")
        self.assertNotIn("[openai]", self.wait_replies(third)[0]["text"])  # the templates answered
        self.assertEqual(len(self.openai.requests()), 2)
        self.assertIn('switchboard_plugin_over_budget_skips_total{tenant="demo",plugin="openai"}', self.metrics_text())
        self.assertEqual(self.daemon.log().count("monthly_token_budget of 30 tokens is used up"), 1)

    def metrics_text(self) -> str:
        return http_request("GET", self.daemon.url("/metrics")).text

    def test_a_failing_reply_tier_hands_over_to_a_single_turn_recommendation_from_the_catalog(self) -> None:
        config = self.make_config()
        tenant = config["tenants"]["demo"]
        tenant["plugins"]["openai"] = {
            "api_key": OPENAI_KEY, "base_url": self.emulator.url + "/openai/v1", "system_prompt": PROMPT,
            "catalog_file": str(SOURCE_DIR / "tests/fixtures/catalog/nomad-outfitters.yaml")}
        tenant["routes"] = [{"on": "message.received", "run": [{"first_of": [
            {"stage": "openai.reply", "budget": f"{BUDGET_S}s"},
            {"stage": "openai.recommend", "budget": f"{BUDGET_S}s"},
            "templates.reply"]}]}]
        self.start_daemon(config)
        self.openai.fail(preset="unavailable", count=1)
        contact, _, _ = self.send_text(text="kurtka bga yu")
        reply = self.wait_replies(contact)
        self.assertEqual(reply[0]["text"], "[openai] kurtka bga yu")
        request = self.openai.accepted()[-1]
        self.assertEqual(request["messages"][1:], [{"role": "user", "content": "kurtka bga yu"}])
        self.assertIn("- Winter down jacket — 289000 (in stock: 4)", request["messages"][0]["content"])
