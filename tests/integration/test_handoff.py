"""Human handoff in front of the AI chain, against the running daemon: the route
`[templates.handoff, first_of: [openai.reply, templates.reply]]` hands a conversation to a person
on the tenant's escalation keywords, after auto_escalate_after bot replies, or when the model
answers HANDOFF; each time one conversation.escalated is filed, one notice is sent, the model is
not asked again and the bot stays silent until `switchboard conversations release`."""

from __future__ import annotations

from harness import DaemonTestCase, run_cli, sql_quote
from ai_provider import OpenAIProvider  # noqa: E402 (harness puts the emulator on the path)

OPENAI_KEY = "sk-test-openai-key"


class HandoffTest(DaemonTestCase):
    start_automatically = False

    def setUp(self) -> None:
        super().setUp()
        self.openai = self.emulator.add(OpenAIProvider(OPENAI_KEY))
        config = self.make_config()
        tenant = config["tenants"]["demo"]
        tenant["plugins"]["openai"] = {"api_key": OPENAI_KEY, "base_url": self.emulator.url + "/openai/v1",
                                       "handoff_message": "A colleague will take it from here."}
        tenant["plugins"]["templates"] = {"escalation_keywords": ["refund now", "lawyer"], "auto_escalate_after": 2}
        tenant["routes"] = [{"on": "message.received", "run": [
            "templates.handoff",
            {"first_of": [{"stage": "openai.reply", "budget": "2s"}, "templates.reply"]}]}]
        self.start_daemon(config)

    def escalations(self) -> list[tuple]:
        return self.db.query("SELECT payload FROM events WHERE type = 'conversation.escalated' ORDER BY id")

    def conversation_of(self, mid: str) -> str:
        return self.db.query(f"SELECT conversation_id FROM messages WHERE provider_message_id = {sql_quote(mid)}")[0][0]

    def escalated(self, mid: str) -> str:
        return self.db.query("SELECT c.escalated FROM conversations c JOIN messages m ON m.conversation_id = c.id "
                             f"WHERE m.provider_message_id = {sql_quote(mid)}")[0][0]

    def test_an_escalation_keyword_hands_over_before_the_model_is_asked(self) -> None:
        contact, mid, _ = self.send_text(text="I want a refund now or I call my lawyer")
        notice = self.wait_replies(contact)
        self.wait(lambda: len(self.escalations()) == 1, "one conversation.escalated")
        self.assertEqual(self.escalated(mid), "1")
        self.assertEqual(self.openai.requests(), [])  # the model was never asked
        self.assertNotIn("[openai]", notice[0]["text"])
        self.send_text(contact=contact, text="hello? anyone?")
        self.wait_idle()
        self.assertEqual(len(self.replies_to(contact)), 1)  # silent while a person has it
        self.assertEqual(self.openai.requests(), [])

    def test_after_two_bot_replies_the_third_message_goes_to_a_person_and_release_restores_the_bot(self) -> None:
        contact, mid, _ = self.send_text(text="Do you sell tea?")
        self.wait_replies(contact, 1)
        self.send_text(contact=contact, text="And coffee?")
        self.wait_replies(contact, 2)
        self.send_text(contact=contact, text="And cakes?")
        replies = self.wait_replies(contact, 3)
        self.wait(lambda: len(self.escalations()) == 1, "one conversation.escalated")
        self.assertIn("auto_escalate_after 2", self.escalations()[0][0])
        self.assertNotIn("[openai]", replies[2]["text"])
        self.assertEqual(len(self.openai.requests()), 2)
        released = run_cli(["conversations", "release", "--config", str(self.daemon.config_path), "--tenant", "demo",
                            "--conversation", self.conversation_of(mid)])
        self.assertEqual(released.returncode, 0, released.stderr)
        self.send_text(contact=contact, text="Back again: any muffins?")
        replies = self.wait_replies(contact, 4)
        self.assertEqual(replies[3]["text"], "[openai] Back again: any muffins?")  # the bot answers again

    def test_the_model_asking_for_a_person_hands_over_with_the_tenant_notice(self) -> None:
        self.openai.answer_next("HANDOFF")
        contact, mid, _ = self.send_text(text="This is the third time my parcel is lost!")
        reply = self.wait_replies(contact)
        self.assertEqual(reply[0]["text"], "A colleague will take it from here.")
        self.wait(lambda: len(self.escalations()) == 1, "one conversation.escalated")
        self.assertIn("the model found", self.escalations()[0][0])
        self.assertEqual(self.escalated(mid), "1")
        self.send_text(contact=contact, text="Hello??")
        self.wait_idle()
        self.assertEqual(len(self.replies_to(contact)), 1)
        self.assertEqual(len(self.openai.requests()), 1)
