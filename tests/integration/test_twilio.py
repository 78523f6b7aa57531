"""The Twilio channel against the running daemon and the Messages API emulator
(tests/emulator/twilio_provider.py): SMS and WhatsApp webhooks (the real bodies from ../shared and
variations) are verified by X-Twilio-Signature over server.public_url + path, stored once per
MessageSid and answered exactly once with a StatusCallback; status callbacks move the reply
through the status model; an unsubscribe (21610) is recorded and stops further sends."""

from __future__ import annotations

import os
import urllib.parse
from pathlib import Path

from harness import DaemonTestCase, http_request, wait_until
from twilio_provider import TwilioProvider, sign

SHARED = Path(os.environ.get("SWITCHBOARD_SOURCE_DIR", Path(__file__).resolve().parents[2])) / ".." / "shared"
FIXTURES = SHARED / "fixtures" / "twilio"
ACCOUNT = "AC0123456789abcdef0123456789abcdef"
TOKEN = "twilio-auth-token-for-tests"
PUBLIC = "https://sb.example.test"
WEBHOOK = PUBLIC + "/webhooks/twilio/shop"

_sids = iter(range(1, 1_000_000))


class TwilioTest(DaemonTestCase):
    start_automatically = False

    def setUp(self) -> None:
        super().setUp()
        self.twilio = self.emulator.add(TwilioProvider(ACCOUNT, TOKEN))
        config = self.make_config(server={"public_url": PUBLIC})
        config["tenants"]["shop"] = {
            "plugins": {"twilio": {"account_sid": ACCOUNT, "auth_token": TOKEN, "whatsapp_number": "+14155238886",
                                   "sms_number": "+12028831111", "api_base": self.emulator.url + "/twilio",
                                   "send_timeout": "2s"},
                        "templates": {"locale": "en"}},
            "routes": [{"on": "message.received", "run": ["templates.reply"]}]}
        self.start_daemon(config)

    def post(self, params: list[tuple[str, str]] | bytes, token: str = TOKEN, signed: bool = True):
        body = params if isinstance(params, bytes) else urllib.parse.urlencode(params).encode()
        pairs = urllib.parse.parse_qsl(body.decode(), keep_blank_values=True)
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if signed:
            headers["X-Twilio-Signature"] = sign(token, WEBHOOK, pairs)
        return http_request("POST", self.daemon.url("/webhooks/twilio/shop"), body, headers)

    def inbound(self, sender: str, text: str = "Hello") -> tuple[str, list[tuple[str, str]]]:
        sid = f"SMin{next(_sids):030d}"
        return sid, [("MessageSid", sid), ("AccountSid", ACCOUNT), ("From", sender), ("To", "+12028831111"),
                     ("Body", text), ("NumMedia", "0"), ("SmsStatus", "received")]

    def reply_status(self, sid: str) -> str | None:
        rows = self.db.query(f"SELECT status FROM messages WHERE provider_message_id = '{sid}'")
        return rows[0][0] if rows else None

    def test_a_real_whatsapp_message_is_answered_once_with_a_status_callback(self) -> None:
        if not FIXTURES.is_dir():
            self.skipTest("../shared/fixtures is not next to the repository")
        body = (FIXTURES / "courier-whatsapp-inbound-text.form").read_bytes()
        for _ in range(2):  # Twilio retries a webhook that failed; each retry is the same MessageSid
            self.assertEqual(self.post(body).status, 200)
        sent = wait_until(lambda: self.twilio.accepted(to="whatsapp:+14133881111"), message="the WhatsApp reply")
        self.assertEqual(sent[0]["form"]["From"], "whatsapp:+14155238886")
        self.assertEqual(sent[0]["form"]["StatusCallback"], WEBHOOK)
        self.assertEqual(self.count("events WHERE tenant = 'shop' AND type = 'message.received'"), 1)
        sid = sent[0]["sid"]
        wait_until(lambda: self.reply_status(sid) == "sent" or None, message="the reply recorded with its sid")
        for state in ("sent", "delivered", "read"):
            self.assertEqual(self.post([("MessageSid", sid), ("MessageStatus", state),
                                        ("To", "whatsapp:+14133881111")]).status, 200)
        wait_until(lambda: self.reply_status(sid) == "read" or None, message="the read status")
        self.assertEqual(len(self.twilio.accepted(to="whatsapp:+14133881111")), 1)

    def test_forged_unsigned_or_wrongly_addressed_webhooks_store_nothing(self) -> None:
        _, params = self.inbound("+15550001")
        self.assertEqual(self.post(params, token="not-the-token").status, 401)
        self.assertEqual(self.post(params, signed=False).status, 401)
        body = urllib.parse.urlencode(params).encode()
        # Signed for another URL (a proxy that rewrote the host): refused too.
        headers = {"X-Twilio-Signature": sign(TOKEN, "https://elsewhere.example/webhooks/twilio/shop", params)}
        self.assertEqual(http_request("POST", self.daemon.url("/webhooks/twilio/shop"), body, headers).status, 401)
        self.assertEqual(self.count("webhook_events WHERE tenant = 'shop'"), 0)
        self.assertEqual(self.twilio.requests(), [])

    def test_an_unsubscribed_recipient_is_recorded_and_never_sent_to_again(self) -> None:
        self.twilio.fail(preset="unsubscribed", count=1)
        _, params = self.inbound("+15550002")
        self.assertEqual(self.post(params).status, 200)
        dead = wait_until(lambda: self.db.query("SELECT last_error FROM jobs WHERE tenant = 'shop' AND "
                                                "kind = 'command' AND state = 'dead'"), message="the final failure")
        self.assertIn("21610", dead[0][0])
        attributes = wait_until(lambda: self.db.query("SELECT c.attributes FROM contacts c JOIN channel_identities i "
                                                      "ON i.contact_id = c.id WHERE i.tenant = 'shop' AND "
                                                      "i.provider_id = '+15550002' AND c.attributes IS NOT NULL"), message="the opt-out")
        self.assertIn("opted_out", attributes[0][0])
        _, again = self.inbound("+15550002", "Are you there?")
        self.assertEqual(self.post(again).status, 200)
        wait_until(lambda: self.count("jobs WHERE tenant = 'shop' AND kind = 'command' AND state = 'dead'") == 2 or None,
                   message="the second reply refused")
        self.assertEqual(len(self.twilio.requests(to="+15550002")), 1)  # only the first reached Twilio

    def test_a_failed_status_keeps_its_reason_and_a_429_defers(self) -> None:
        self.twilio.fail(preset="too_many_requests", count=1)
        _, params = self.inbound("+15550003")
        self.assertEqual(self.post(params).status, 200)
        sent = wait_until(lambda: self.twilio.accepted(to="+15550003"), timeout=15.0, message="the reply after 429")
        attempts = self.db.query("SELECT attempts FROM jobs WHERE tenant = 'shop' AND kind = 'command'")
        self.assertEqual([int(a[0]) for a in attempts], [1])
        sid = sent[0]["sid"]
        wait_until(lambda: self.reply_status(sid) == "sent" or None, message="the reply recorded")
        self.assertEqual(self.post([("MessageSid", sid), ("MessageStatus", "undelivered"), ("ErrorCode", "30003"),
                                    ("To", "+15550003")]).status, 200)
        wait_until(lambda: self.reply_status(sid) == "failed" or None, message="the failed status")
        reason = self.db.query(f"SELECT error FROM messages WHERE provider_message_id = '{sid}'")
        self.assertIn("unreachable destination handset", str(reason))
