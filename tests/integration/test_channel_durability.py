"""kill -9 durability of every chat channel added with ABI 2.0 (WhatsApp Cloud API, Twilio, TikTok,
Telegram): messages acknowledged while their providers fail are all answered, exactly once each,
by the daemon that restarts on the same database after a SIGKILL."""

from __future__ import annotations

import json
import time
import urllib.parse

from harness import DaemonTestCase, http_request, sign as meta_sign, wait_until
from telegram_provider import TelegramProvider
from tiktok_provider import TikTokProvider, sign as tiktok_sign
from twilio_provider import TwilioProvider, sign as twilio_sign
from whatsapp_provider import WhatsAppProvider

APP_SECRET, WA_TOKEN, NUMBER = "durable-app-secret", "EAAG-durable", "5551000"
TW_ACCOUNT, TW_TOKEN = "AC00000000000000000000000000000001", "durable-twilio-token"
TT_SECRET, TT_TOKEN, TT_BUSINESS = "durable-tiktok-secret", "act.durable", "biz-durable"
TG_TOKEN, TG_SECRET = "5151:durable-bot", "durable-telegram-secret"
PUBLIC = "https://sb.example.test"


class ChannelDurabilityTest(DaemonTestCase):
    start_automatically = False

    def setUp(self) -> None:
        super().setUp()
        self.wa = self.emulator.add(WhatsAppProvider(tokens={WA_TOKEN}))
        self.tw = self.emulator.add(TwilioProvider(TW_ACCOUNT, TW_TOKEN))
        self.tt = self.emulator.add(TikTokProvider(TT_TOKEN))
        self.tg = self.emulator.add(TelegramProvider(tokens={TG_TOKEN}))
        self.providers = [self.wa, self.tw, self.tt, self.tg]
        base = self.emulator.url
        config = self.make_config(server={"public_url": PUBLIC},
                                  delivery={"max_attempts": 1000, "backoff_initial": "20ms", "backoff_max": "100ms",
                                            "lease": "2s"})
        config["tenants"]["multi"] = {
            "plugins": {
                "whatsapp": {"app_secret": APP_SECRET, "access_token": WA_TOKEN, "phone_number_id": NUMBER,
                             "api_base": base + "/whatsapp/v21.0"},
                "twilio": {"account_sid": TW_ACCOUNT, "auth_token": TW_TOKEN, "sms_number": "+15550000000",
                           "api_base": base + "/twilio", "rate_limit_sms": "off"},
                "tiktok": {"client_secret": TT_SECRET, "access_token": TT_TOKEN, "business_id": TT_BUSINESS,
                           "api_base": base + "/tiktok"},
                "telegram": {"bot_token": TG_TOKEN, "webhook_secret": TG_SECRET, "api_base": base + "/telegram"},
                "templates": {"locale": "en"}},
            "routes": [{"on": "message.received", "run": ["templates.reply"]}]}
        self.start_daemon(config)

    def post_all(self, n: int) -> None:
        """One customer message on each channel; every post must be acknowledged with 200."""
        now = int(time.time())
        wa = json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{
            "field": "messages", "value": {"messaging_product": "whatsapp", "metadata": {"phone_number_id": NUMBER},
                                           "messages": [{"from": f"97611{n:04d}", "id": f"wamid.D{n}",
                                                         "timestamp": str(now), "type": "text",
                                                         "text": {"body": "hi"}}]}}]}]}).encode()
        self.assertEqual(self.post("whatsapp", wa, {"X-Hub-Signature-256": meta_sign(APP_SECRET, wa)}).status, 200)
        params = [("MessageSid", f"SMdurable{n:024d}"), ("From", f"+1555200{n:04d}"), ("To", "+15550000000"),
                  ("Body", "hi"), ("NumMedia", "0")]
        form = urllib.parse.urlencode(params).encode()
        signature = twilio_sign(TW_TOKEN, PUBLIC + "/webhooks/twilio/multi", params)
        self.assertEqual(self.post("twilio", form, {"X-Twilio-Signature": signature,
                                                    "Content-Type": "application/x-www-form-urlencoded"}).status, 200)
        content = {"type": "text", "message_id": f"tt-d{n}", "timestamp": now * 1000, "conversation_id": f"conv-d{n}",
                   "text": {"body": "hi"}, "from_user": {"id": f"u{n}"}, "to_user": {"id": TT_BUSINESS}}
        tt = json.dumps({"event": "im_receive_msg", "user_openid": TT_BUSINESS, "create_time": now,
                         "content": json.dumps(content)}).encode()
        self.assertEqual(self.post("tiktok", tt, {"Tiktok-Signature": tiktok_sign(TT_SECRET, now, tt)}).status, 200)
        tg = json.dumps({"update_id": 880000 + n, "message": {"message_id": n, "date": now, "text": "hi",
                                                             "chat": {"id": 7700 + n, "type": "private"}}}).encode()
        self.assertEqual(self.post("telegram", tg, {"X-Telegram-Bot-Api-Secret-Token": TG_SECRET}).status, 200)

    def post(self, plugin: str, body: bytes, headers: dict[str, str]):
        return http_request("POST", self.daemon.url(f"/webhooks/{plugin}/multi"), body,
                            {"Content-Type": "application/json", **headers})

    def accepted(self) -> list[list[dict]]:
        return [p.accepted() for p in self.providers]

    def test_kill_9_while_every_provider_fails_loses_nothing_and_sends_once(self) -> None:
        for provider in self.providers:
            provider.fail(preset="unavailable", count=None)
        for n in range(3):
            self.post_all(n)
        wait_until(lambda: all(p.requests() for p in self.providers), message="a failed attempt on every channel")
        self.daemon.kill()
        quiet = [0, time.monotonic()]

        def settled() -> bool:  # what the dead process wrote is answered under the faults first
            n = sum(len(p.requests()) for p in self.providers)
            if n != quiet[0]:
                quiet[0], quiet[1] = n, time.monotonic()
            return time.monotonic() - quiet[1] >= 0.3
        wait_until(settled, interval=0.05, message="the emulator to go quiet")
        self.assertEqual(self.accepted(), [[], [], [], []])
        for provider in self.providers:
            provider.clear_faults()
        self.restart_daemon()
        wait_until(lambda: all(len(a) >= 3 for a in self.accepted()) or None, timeout=30.0,
                   message="three replies on every channel")
        self.wait_idle()
        counts = [sorted({r.get("to") or r.get("recipient") or r.get("chat_id") for r in a}) for a in self.accepted()]
        self.assertEqual([len(a) for a in self.accepted()], [3, 3, 3, 3])
        self.assertEqual([len(c) for c in counts], [3, 3, 3, 3])  # one reply to each customer
