"""Burst coalescing against the running daemon: with the tenant's reply_debounce, the three short
messages a customer sends in a row get one reply, which answers all of them (the template reply
reads the whole burst), sent after the debounce; a later burst gets its own reply, in order."""

from __future__ import annotations

import time

from harness import DaemonTestCase

DEBOUNCE_S = 1


class DebounceTest(DaemonTestCase):
    start_automatically = False

    def setUp(self) -> None:
        super().setUp()
        config = self.make_config()
        config["tenants"]["demo"]["reply_debounce"] = f"{DEBOUNCE_S}s"
        self.start_daemon(config)

    def test_a_burst_gets_one_reply_that_answers_all_of_it(self) -> None:
        started = time.monotonic()
        contact, _, _ = self.send_text(text="hi")
        self.send_text(contact=contact, text="I ordered a dress on Monday")
        self.send_text(contact=contact, text="when does it come?")
        replies = self.wait_replies(contact)
        self.assertGreaterEqual(time.monotonic() - started, DEBOUNCE_S)  # the debounce was waited out
        self.wait_idle()
        replies = self.replies_to(contact)
        self.assertEqual(len(replies), 1, replies)
        # The burst as a whole asks about an order: not the greeting the first message alone would get.
        self.assertIn("order number", replies[0]["text"])
        coalesced = self.db.query("SELECT count(*) FROM events WHERE type = 'message.received'")[0][0]
        self.assertEqual(coalesced, "3")  # every message is kept

        # A second burst after a pause: its own reply, after the first.
        self.send_text(contact=contact, text="also")
        self.send_text(contact=contact, text="do you have it in red?")
        replies = self.wait_replies(contact, 2)
        self.wait_idle()
        self.assertEqual(len(self.replies_to(contact)), 2)
        self.assertNotEqual(replies[0]["text"], replies[1]["text"])
