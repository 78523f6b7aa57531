"""The TikTok channel against the running daemon and the Business API emulator
(tests/emulator/tiktok_provider.py): direct messages signed with Tiktok-Signature are stored once
per message_id and answered once; forged, stale and unsigned deliveries store nothing; replies
past TikTok's 10 messages per customer per day wait for the next day instead of failing, so the
provider never refuses one; read receipts move replies to "read"."""

from __future__ import annotations

import json
import time

from harness import DaemonTestCase, http_request, wait_until
from tiktok_provider import TikTokProvider, sign

SECRET = "tiktok-client-secret-for-tests"
TOKEN = "act.tiktok-test-token"
BUSINESS = "biz-7000"

_ids = iter(range(1, 1_000_000))


def envelope(event: str, content: dict) -> bytes:
    return json.dumps({"client_key": "ck-test", "event": event, "create_time": int(time.time()),
                       "user_openid": BUSINESS, "content": json.dumps(content)}).encode()


def dm(user: str, text: str = "hello") -> dict:
    return {"type": "text", "message_id": f"tt-in-{next(_ids)}", "timestamp": int(time.time() * 1000),
            "conversation_id": f"conv-{user}", "text": {"body": text}, "from": "Customer",
            "from_user": {"id": user}, "to": "Shop", "to_user": {"id": BUSINESS}}


class TikTokTest(DaemonTestCase):
    start_automatically = False

    def setUp(self) -> None:
        super().setUp()
        self.tiktok = self.emulator.add(TikTokProvider(TOKEN))
        config = self.make_config()
        config["tenants"]["shop"] = {
            "plugins": {"tiktok": {"client_secret": SECRET, "access_token": TOKEN, "business_id": BUSINESS,
                                   "api_base": self.emulator.url + "/tiktok"},
                        "templates": {"locale": "en"}},
            "routes": [{"on": "message.received", "run": ["templates.reply"]}]}
        self.start_daemon(config)

    def post(self, body: bytes, signature: str | None = None):
        headers = {"Content-Type": "application/json",
                   "Tiktok-Signature": signature if signature is not None else sign(SECRET, int(time.time()), body)}
        return http_request("POST", self.daemon.url("/webhooks/tiktok/shop"), body, headers)

    def test_a_direct_message_is_answered_once_and_a_read_receipt_applies(self) -> None:
        body = envelope("im_receive_msg", dm("u1"))
        for _ in range(2):
            self.assertEqual(self.post(body).status, 200)
        sent = wait_until(lambda: self.tiktok.accepted(recipient="conv-u1"), message="the reply")
        self.assertEqual(self.count("events WHERE tenant = 'shop' AND type = 'message.received'"), 1)
        message_id = sent[0]["message_id"]
        wait_until(lambda: self.db.query(f"SELECT status FROM messages WHERE provider_message_id = '{message_id}'"),
                   message="the reply recorded")
        read = {"conversation_id": "conv-u1", "read": {"last_read_timestamp": int(time.time() * 1000) + 1000},
                "from_user": {"id": "u1"}}
        self.assertEqual(self.post(envelope("im_mark_read_msg", read)).status, 200)
        wait_until(lambda: self.db.query(f"SELECT status FROM messages WHERE provider_message_id = '{message_id}' "
                                         "AND status = 'read'"), message="the read receipt")
        self.assertEqual(len(self.tiktok.accepted(recipient="conv-u1")), 1)

    def test_forged_stale_or_unsigned_deliveries_store_nothing(self) -> None:
        body = envelope("im_receive_msg", dm("u2"))
        self.assertEqual(self.post(body, sign("forged-secret", int(time.time()), body)).status, 401)
        self.assertEqual(self.post(body, sign(SECRET, int(time.time()) - 3600, body)).status, 401)  # a replay
        self.assertEqual(self.post(body, "").status, 401)
        self.assertEqual(self.count("webhook_events WHERE tenant = 'shop'"), 0)
        self.assertEqual(self.tiktok.requests(), [])

    def test_replies_past_ten_a_day_wait_for_the_next_day_and_are_not_dropped(self) -> None:
        for n in range(12):
            self.assertEqual(self.post(envelope("im_receive_msg", dm("u3", f"question {n}"))).status, 200)
        wait_until(lambda: len(self.tiktok.accepted(recipient="conv-u3")) == 10 or None, timeout=30.0,
                   message="ten replies")
        next_day_ms = (int(time.time()) // 86400 + 1) * 86400 * 1000
        waiting = wait_until(
            lambda: (rows := self.db.query("SELECT attempts, next_attempt_at_ms FROM jobs WHERE tenant = 'shop' AND "
                                           "kind = 'command' AND state = 'pending'"))
            and len(rows) == 2 and any(int(due) >= next_day_ms for _, due in rows) and rows,
            message="the eleventh reply held and the twelfth queued behind it")
        self.assertEqual(len(waiting), 2)
        # The twelfth waits behind the eleventh: the conversation's replies keep their order.
        self.assertTrue(all(int(attempts) <= 1 for attempts, _ in waiting))
        self.assertEqual([r for r in self.tiktok.requests() if r.get("daily_limit_exceeded")], [])
        self.assertEqual(self.count("jobs WHERE tenant = 'shop' AND state = 'dead'"), 0)
        self.assertIn("messages per customer per day", self.daemon.log())
