"""Proof of delivery through the provider: a send whose outcome is unknown (the provider accepted
it, its answer was lost, the daemon died) and that no echo settled within delivery.echo_grace is
looked up in the conversation (Graph Conversations API) before it is sent again. Found: not sent
again. Lookup failed: sent again (the documented at-least-once fallback), with a warning."""

from __future__ import annotations

import json
import unittest

from harness import DaemonTestCase, graph_error_body

RECOVERED = "the provider shows the interrupted attempt was delivered"
LOOKUP_FAILED = "Conversations API whether the interrupted attempt was delivered"


class ConversationLookupTest(DaemonTestCase):
    start_automatically = False

    def lookups(self) -> list[dict]:
        return [r for r in self.graph.requests() if r["method"] == "GET"]

    def assert_recovered(self, plugin: str) -> None:
        contact, accepted = self.crash_after_accepted_send(plugin, echo_grace="1s")
        self.restart_daemon()  # no echo is posted
        self.wait(lambda: RECOVERED in self.daemon.log(), "the lookup to find the interrupted attempt")
        self.wait_idle()
        self.assertEqual(len(self.replies_to(contact)), 1, self.replies_to(contact))
        self.assertEqual(self.count("jobs WHERE kind = 'command' AND state = 'done'"), 1)
        conversations = [r for r in self.lookups() if r.get("endpoint") == "conversations"]
        self.assertEqual(len(conversations), 1, conversations)
        self.assertEqual((conversations[0]["query"]["platform"], conversations[0]["query"]["user_id"]),
                         (plugin, contact))
        for lookup in self.lookups():
            self.assertEqual(lookup["outcome"], "read", lookup)
            self.assertNotIn("access_token", lookup["query"], "the token goes in the header, not the URL")
        result = json.loads(self.scalar("SELECT result FROM jobs WHERE kind = 'command'") or "{}")
        self.assertEqual(result.get("provider_message_id"), accepted["message_id"], result)
        self.assertIs(result.get("recovered"), True, result)

    def test_messenger_lookup_finds_the_interrupted_reply(self) -> None:
        self.assert_recovered("messenger")

    def test_instagram_lookup_finds_the_interrupted_reply(self) -> None:
        self.assert_recovered("instagram")

    def test_failed_lookup_falls_back_to_sending_again(self) -> None:
        contact, _ = self.crash_after_accepted_send("messenger", echo_grace="1s")
        self.graph.fail(500, graph_error_body("An unexpected error has occurred. Please retry your request later.",
                                              2, is_transient=True), method="GET", count=None)
        self.restart_daemon()
        self.wait_replies(contact, count=2)
        self.wait_idle()
        self.assertEqual(len(self.replies_to(contact)), 2)
        log = self.daemon.log()
        self.assertIn(LOOKUP_FAILED, log)
        self.assertNotIn(RECOVERED, log)
        self.assertEqual([r["outcome"] for r in self.lookups()], ["fault"], "one lookup, no retry loop")

    def test_a_reply_that_never_reached_the_provider_is_sent(self) -> None:
        # The provider held the send without processing it: the conversation shows nothing, so
        # the reply goes out once the grace has passed (exactly once).
        self.start_daemon(delivery={"lease": "2s", "echo_grace": "1s"})
        self.graph.hang(60, count=None)
        contact, _, _ = self.send_text("messenger", text="anyone there?")
        self.wait(lambda: any(r["outcome"] == "hang" for r in self.attempts_to(contact)), "the send to hang")
        self.daemon.kill()
        self.graph.clear_faults()
        self.restart_daemon()
        self.assert_exactly_one_reply(contact)
        self.assertNotIn(RECOVERED, self.daemon.log())


if __name__ == "__main__":
    unittest.main()
