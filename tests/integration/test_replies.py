"""Conversations end to end: every customer message answered exactly once through the Send API
emulator, no answer to echoes and receipts, receipts update outbound status, replays deduplicated,
escalation to a human, and the 24-hour messaging window."""

from __future__ import annotations

import re
import threading
import unittest
from concurrent.futures import ThreadPoolExecutor

from harness import DaemonTestCase, batch, meta_body, meta_json, now_ms, run_cli, sql_quote, unique_id

HOUR_MS = 3600 * 1000


class ReplyTest(DaemonTestCase):
    def test_every_text_gets_exactly_one_reply(self) -> None:
        cases = [
            ("messenger", self.demo, False), ("messenger", self.demo, True),
            ("instagram", self.demo, False), ("instagram", self.demo, True),
            ("messenger", self.other, False), ("messenger", self.other, True),
        ]
        contacts = []
        for plugin, tenant, by_payload in cases:
            contact, mid, _ = self.send_text(plugin, tenant=tenant, by_payload=by_payload,
                                             text="Do you have this in blue?")
            contacts.append((plugin, tenant, by_payload, contact, mid))
        for plugin, tenant, by_payload, contact, mid in contacts:
            with self.subTest(plugin=plugin, tenant=tenant.name, by_payload=by_payload):
                reply = self.assert_exactly_one_reply(contact, tenant.token_for(plugin))
                self.assertEqual(
                    self.rows(f"SELECT tenant, channel, direction, status, text FROM messages "
                              f"WHERE provider_message_id = {sql_quote(mid)}"),
                    [(tenant.name, plugin, "inbound", "received", "Do you have this in blue?")])
                outbound = self.rows(
                    f"SELECT tenant, channel, direction, status FROM messages "
                    f"WHERE provider_message_id = {sql_quote(reply['message_id'])}")
                self.assertEqual(outbound, [(tenant.name, plugin, "outbound", "sent")])
                same_conversation = self.count(
                    f"messages i JOIN messages o ON o.conversation_id = i.conversation_id "
                    f"WHERE i.provider_message_id = {sql_quote(mid)} "
                    f"AND o.provider_message_id = {sql_quote(reply['message_id'])}")
                self.assertEqual(same_conversation, 1, "the reply belongs to the customer's conversation")

    def test_each_kind_of_customer_message_is_answered(self) -> None:
        contacts = {}
        for fixture in ("messenger/text.json", "messenger/quick-reply.json", "messenger/attachment-image.json",
                        "messenger/postback.json"):
            contact = unique_id()
            body = meta_body(fixture, account_id=self.demo.page_id, contact_id=contact)
            result = self.post_webhook("messenger", body)
            self.assertEqual(result.status, 200, f"{fixture}: {result!r}")
            contacts[fixture] = contact
        for fixture, contact in contacts.items():
            with self.subTest(fixture):
                self.assert_exactly_one_reply(contact, self.demo.page_token)

    def test_a_batched_webhook_answers_every_message(self) -> None:
        contacts = [unique_id() for _ in range(3)]
        bodies = [meta_body("messenger/text.json", account_id=self.demo.page_id, contact_id=c) for c in contacts]
        # Two events in one entry, plus a second entry: both batching forms Meta uses.
        first = bodies[0]
        first["entry"][0]["messaging"].extend(bodies[1]["entry"][0]["messaging"])
        result = self.post_webhook("messenger", batch(first, bodies[2]))
        self.assertEqual(result.status, 200, result)
        for contact in contacts:
            with self.subTest(contact):
                self.assert_exactly_one_reply(contact)

    def test_concurrent_customers_each_get_one_reply(self) -> None:
        contacts = [unique_id() for _ in range(24)]

        def post(contact: str) -> int:
            body = meta_body("messenger/text.json", account_id=self.demo.page_id, contact_id=contact)
            return self.post_webhook("messenger", body).status

        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = list(pool.map(post, contacts))
        self.assertEqual(statuses, [200] * len(contacts))
        self.wait(lambda: all(self.replies_to(c) for c in contacts), "a reply to every customer")
        self.wait_idle()
        counts = {c: len(self.replies_to(c)) for c in contacts}
        self.assertEqual(counts, {c: 1 for c in contacts})
        self.assertEqual(self.count("messages WHERE direction = 'inbound'"), len(contacts))


class NoReplyTest(DaemonTestCase):
    def test_echoes_get_no_reply_and_are_recorded_as_outbound(self) -> None:
        for plugin in ("messenger", "instagram"):
            with self.subTest(plugin):
                contact = unique_id()
                mid = "m_" + unique_id()
                body = meta_body(f"{plugin}/echo.json", account_id=self.demo.account_for(plugin),
                                 contact_id=contact, mid=mid)
                result = self.post_webhook(plugin, body)
                self.assertEqual(result.status, 200, result)
                self.wait(lambda: self.rows(f"SELECT direction FROM messages WHERE provider_message_id = "
                                            f"{sql_quote(mid)}") == [("outbound",)],
                          "the echo to be recorded as an outbound message")
                self.assert_no_reply(contact)

    def test_echo_of_our_own_reply_is_not_a_second_message(self) -> None:
        contact, _, _ = self.send_text()
        reply = self.assert_exactly_one_reply(contact)
        echo = meta_body("messenger/echo.json", account_id=self.demo.page_id, contact_id=contact,
                         mid=reply["message_id"], text=reply["text"])
        self.assertEqual(self.post_webhook("messenger", echo).status, 200)
        self.wait_idle()
        self.assertEqual(self.count(f"messages WHERE provider_message_id = {sql_quote(reply['message_id'])}"), 1)
        self.assertEqual(len(self.replies_to(contact)), 1)

    def test_receipts_get_no_reply(self) -> None:
        contact = unique_id()
        for fixture in ("messenger/delivery.json", "messenger/read.json"):
            body = meta_body(fixture, account_id=self.demo.page_id, contact_id=contact, watermark_ms=now_ms(),
                             mids=["m_" + unique_id()] if "delivery" in fixture else None)
            self.assertEqual(self.post_webhook("messenger", body).status, 200, fixture)
        self.assert_no_reply(contact)
        self.assertEqual(self.count("messages WHERE direction = 'inbound'"), 0)


class ReceiptTest(DaemonTestCase):
    def outbound_status(self, message_id: str) -> str | None:
        return self.scalar(f"SELECT status FROM messages WHERE direction = 'outbound' "
                           f"AND provider_message_id = {sql_quote(message_id)}")

    def wait_status(self, message_id: str, status: str) -> None:
        self.wait(lambda: self.outbound_status(message_id) == status,
                  f"outbound message {message_id} to reach status {status!r}")

    def reply_to_new_customer(self) -> tuple[str, str]:
        contact, _, _ = self.send_text()
        reply = self.assert_exactly_one_reply(contact)
        self.wait_status(reply["message_id"], "sent")
        return contact, reply["message_id"]

    def post_receipt(self, fixture: str, contact: str, *, watermark_ms: int, mids: list[str] | None = None) -> None:
        body = meta_body(fixture, account_id=self.demo.page_id, contact_id=contact, watermark_ms=watermark_ms,
                         mids=mids)
        result = self.post_webhook("messenger", body)
        self.assertEqual(result.status, 200, result)

    def test_delivery_by_mids_then_read_by_watermark(self) -> None:
        contact, message_id = self.reply_to_new_customer()
        # A watermark older than the send: only the listed mids decide.
        self.post_receipt("messenger/delivery.json", contact, watermark_ms=now_ms() - HOUR_MS, mids=[message_id])
        self.wait_status(message_id, "delivered")
        self.assertIsNotNone(self.scalar(f"SELECT delivered_at_ms FROM messages "
                                         f"WHERE provider_message_id = {sql_quote(message_id)}"))
        self.post_receipt("messenger/read.json", contact, watermark_ms=now_ms() + 1)
        self.wait_status(message_id, "read")
        self.assertIsNotNone(self.scalar(f"SELECT read_at_ms FROM messages "
                                         f"WHERE provider_message_id = {sql_quote(message_id)}"))
        self.assert_no_reply_beyond(contact, 1)

    def test_delivery_by_watermark(self) -> None:
        contact, message_id = self.reply_to_new_customer()
        self.post_receipt("messenger/delivery.json", contact, watermark_ms=now_ms() + 1)
        self.wait_status(message_id, "delivered")
        self.assert_no_reply_beyond(contact, 1)

    def test_read_watermark_before_the_send_changes_nothing(self) -> None:
        contact, message_id = self.reply_to_new_customer()
        sent_at = int(self.scalar(f"SELECT sent_at_ms FROM messages WHERE provider_message_id = "
                                  f"{sql_quote(message_id)}"))
        self.post_receipt("messenger/read.json", contact, watermark_ms=sent_at - 60_000)
        self.wait_for_sentinel()
        self.assertEqual(self.outbound_status(message_id), "sent")

    def test_late_delivery_does_not_undo_read(self) -> None:
        contact, message_id = self.reply_to_new_customer()
        self.post_receipt("messenger/read.json", contact, watermark_ms=now_ms() + 1)
        self.wait_status(message_id, "read")
        self.post_receipt("messenger/delivery.json", contact, watermark_ms=now_ms() + 1, mids=[message_id])
        self.wait_for_sentinel()
        self.assertEqual(self.outbound_status(message_id), "read")

    def wait_for_sentinel(self) -> None:
        """Receipts produce no reply to wait for: let a later message round-trip first."""
        sentinel, _, _ = self.send_text()
        self.assert_exactly_one_reply(sentinel)

    def assert_no_reply_beyond(self, contact: str, count: int) -> None:
        self.wait_idle()
        self.assertEqual(len(self.attempts_to(contact)), count)


class DeduplicationTest(DaemonTestCase):
    def test_replayed_webhook_gets_one_reply(self) -> None:
        for plugin in ("messenger", "instagram"):
            with self.subTest(plugin):
                contact = unique_id()
                mid = "m_" + unique_id()
                raw = meta_json(meta_body(f"{plugin}/text.json", account_id=self.demo.account_for(plugin),
                                          contact_id=contact, mid=mid))
                for _ in range(3):
                    self.assertEqual(self.post_webhook(plugin, raw).status, 200)
                self.assert_exactly_one_reply(contact, self.demo.token_for(plugin))
                # A replay after the reply went out changes nothing either.
                self.assertEqual(self.post_webhook(plugin, raw).status, 200)
                self.wait_idle()
                self.assertEqual(len(self.replies_to(contact)), 1)
                self.assertEqual(self.count(f"messages WHERE provider_message_id = {sql_quote(mid)}"), 1)

    def test_concurrent_replays_get_one_reply(self) -> None:
        contact = unique_id()
        raw = meta_json(meta_body("messenger/text.json", account_id=self.demo.page_id, contact_id=contact))
        barrier = threading.Barrier(6)

        def post(_: int) -> int:
            barrier.wait(5)
            return self.post_webhook("messenger", raw).status

        with ThreadPoolExecutor(max_workers=6) as pool:
            statuses = list(pool.map(post, range(6)))
        self.assertEqual(statuses, [200] * 6)
        self.assert_exactly_one_reply(contact)

    def test_same_mid_in_a_different_body_is_deduplicated(self) -> None:
        # Meta's retry may batch the message differently; the mid is the key, not the bytes.
        contact = unique_id()
        mid = "m_" + unique_id()
        first = meta_body("messenger/text.json", account_id=self.demo.page_id, contact_id=contact, mid=mid)
        other_contact = unique_id()
        second = batch(meta_body("messenger/text.json", account_id=self.demo.page_id, contact_id=other_contact),
                       first)
        self.assertEqual(self.post_webhook("messenger", first).status, 200)
        self.assertEqual(self.post_webhook("messenger", second).status, 200)
        self.assert_exactly_one_reply(contact)
        self.assert_exactly_one_reply(other_contact)

    def test_same_mid_for_another_tenant_is_not_a_duplicate(self) -> None:
        mid = "m_" + unique_id()
        demo_contact, _, _ = self.send_text(mid=mid)
        other_contact, _, _ = self.send_text(tenant=self.other, mid=mid)
        self.assert_exactly_one_reply(demo_contact, self.demo.page_token)
        self.assert_exactly_one_reply(other_contact, self.other.page_token)


class EscalationTest(DaemonTestCase):
    def escalated(self, mid: str) -> str | None:
        return self.scalar(
            "SELECT CAST(c.escalated AS INTEGER) FROM conversations c JOIN messages m ON m.conversation_id = c.id "
            f"WHERE m.provider_message_id = {sql_quote(mid)}")

    def test_handoff_notice_once_then_silence(self) -> None:
        contact, first_mid, _ = self.send_text(text="Hello")
        self.assert_exactly_one_reply(contact)
        self.assertEqual(self.escalated(first_mid), "0")

        self.send_text(contact=contact, text="human")
        self.wait_replies(contact, 2)
        self.wait_idle()
        self.assertEqual(self.escalated(first_mid), "1")
        notice = self.replies_to(contact)[1]
        self.assertNotEqual(notice["text"], self.replies_to(contact)[0]["text"],
                            "the handoff notice should differ from the normal reply")

        for text in ("Hello again?", "human", "operator", "where is my order"):
            self.send_text(contact=contact, text=text)
        postback = meta_body("messenger/postback.json", account_id=self.demo.page_id, contact_id=contact)
        self.assertEqual(self.post_webhook("messenger", postback).status, 200)
        self.wait_idle()
        # Sentinel: a different customer is still answered, so the silence is not a stall.
        self.assert_exactly_one_reply(self.send_text()[0])
        self.assertEqual(len(self.attempts_to(contact)), 2, self.attempts_to(contact))

    def test_release_hands_the_conversation_back_to_the_bot(self) -> None:
        contact, mid, _ = self.send_text(text="operator")
        self.assert_exactly_one_reply(contact)
        self.assertEqual(self.escalated(mid), "1")
        conversation = self.scalar(f"SELECT conversation_id FROM messages WHERE provider_message_id = {sql_quote(mid)}")
        self.send_text(contact=contact, text="hello?")
        self.wait_idle()
        self.assertEqual(len(self.attempts_to(contact)), 1)  # silent while a person has it
        released = run_cli(["conversations", "release", "--config", str(self.daemon.config_path), "--tenant", "demo",
                            "--conversation", str(conversation)])
        self.assertEqual(released.returncode, 0, released.stderr)
        self.assertEqual(self.escalated(mid), "0")
        self.assertEqual(self.count("events WHERE tenant = 'demo' AND type = 'conversation.released'"), 1)
        again = run_cli(["conversations", "release", "--config", str(self.daemon.config_path), "--tenant", "demo",
                         "--conversation", str(conversation)])
        self.assertEqual(again.returncode, 1)
        self.assertIn("has no escalated conversation", again.stderr)
        self.send_text(contact=contact, text="What are your opening hours?")
        self.wait_replies(contact, 2)  # the bot answers again

    def test_every_escalation_phrase(self) -> None:
        cases = {}
        for phrase in ("human", "operator", "оператор", "хүнтэй ярих"):
            contact, mid, _ = self.send_text(text=phrase)
            cases[phrase] = (contact, mid)
        for phrase, (contact, mid) in cases.items():
            with self.subTest(phrase):
                self.assert_exactly_one_reply(contact)
                self.assertEqual(self.escalated(mid), "1")
        notices = {self.replies_to(c)[0]["text"] for c, _ in cases.values()}
        normal = self.assert_exactly_one_reply(self.send_text(text="What are your opening hours?")[0])
        self.assertNotIn(normal["text"], notices, "a normal reply must not be the handoff notice")

    def test_escalation_is_per_conversation(self) -> None:
        escalated_contact, _, _ = self.send_text(text="operator")
        self.assert_exactly_one_reply(escalated_contact)
        other_contact, _, _ = self.send_text(text="hi")
        self.assert_exactly_one_reply(other_contact)
        self.send_text(contact=escalated_contact, text="hi")
        self.send_text(contact=other_contact, text="hi again")
        self.wait_replies(other_contact, 2)
        self.wait_idle()
        self.assertEqual(len(self.attempts_to(escalated_contact)), 1)
        self.assertEqual(len(self.replies_to(other_contact)), 2)


class MessagingWindowTest(DaemonTestCase):
    def test_reply_outside_the_24_hour_window_is_refused(self) -> None:
        contact, mid, _ = self.send_text(timestamp_ms=now_ms() - 25 * HOUR_MS)
        self.wait(lambda: self.count("jobs WHERE state = 'dead'") >= 1, "the send job to become a dead letter")
        self.wait_idle()
        errors = [row[0] or "" for row in self.rows("SELECT last_error FROM jobs WHERE state = 'dead'")]
        self.assertTrue(any(re.search(r"24[- ]?h|24-hour|messaging.window", e, re.I) for e in errors),
                        f"last_error should mention the 24-hour window: {errors}")
        self.assertEqual(self.attempts_to(contact), [], "nothing may reach the Send API outside the window")
        self.assertEqual(self.count(f"messages WHERE provider_message_id = {sql_quote(mid)}"), 1,
                         "the late message itself is still stored")

    def test_reply_inside_the_window_is_sent(self) -> None:
        contact, _, _ = self.send_text(timestamp_ms=now_ms() - 23 * HOUR_MS)
        self.assert_exactly_one_reply(contact)
        self.assertEqual(self.count("jobs WHERE state = 'dead'"), 0)

    def test_a_new_message_reopens_the_window(self) -> None:
        contact, _, _ = self.send_text(timestamp_ms=now_ms() - 30 * HOUR_MS)
        self.wait(lambda: self.count("jobs WHERE state = 'dead'") >= 1, "the stale reply to be refused")
        self.send_text(contact=contact, text="Are you there?")
        self.assert_exactly_one_reply(contact)


if __name__ == "__main__":
    unittest.main()
