"""The Telegram channel against the running daemon and the Bot API emulator
(tests/emulator/telegram_provider.py): the Bot API's own example Updates from ../shared are
verified by their secret token, stored once per update_id and answered exactly once through
sendMessage; a wrong token stores nothing; a 429 with retry_after defers the reply without
spending an attempt, and it still goes out."""

from __future__ import annotations

import json
import os
from pathlib import Path

from harness import DaemonTestCase, http_request, run_cli, wait_until
from telegram_provider import TelegramProvider

SHARED = Path(os.environ.get("SWITCHBOARD_SOURCE_DIR", Path(__file__).resolve().parents[2])) / ".." / "shared"
FIXTURES = SHARED / "fixtures" / "telegram"
TOKEN = "4242:telegram-test-token"
STAFF_TOKEN = "4343:staff-bot-token"
SECRET = "tg-secret-token-1234"


_update_ids = iter(range(900_000_000, 1_000_000_000))


def next_update_id() -> int:
    return next(_update_ids)


class TelegramTest(DaemonTestCase):
    start_automatically = False

    def setUp(self) -> None:
        super().setUp()
        self.bot_api = self.emulator.add(TelegramProvider(tokens={TOKEN, STAFF_TOKEN}))
        config = self.make_config(server={"public_url": "https://bot.example.test"})
        config["tenants"]["bot"] = {
            "plugins": {
                "telegram": {"bot_token": TOKEN, "webhook_secret": SECRET,
                             "api_base": self.emulator.url + "/telegram", "send_timeout": "2s"},
                # The staff bot: a second instance of the plugin, with its own bot and URL.
                "staff-bot": {"use": "telegram", "bot_token": STAFF_TOKEN, "webhook_secret": SECRET,
                              "bot_username": "shop_staff_bot", "api_base": self.emulator.url + "/telegram"},
                "templates": {"locale": "en"},
            },
            "routes": [{"on": "message.received", "when": {"channel": ["telegram"]}, "run": ["templates.reply"]},
                       {"on": "message.received", "when": {"channel": ["staff-bot"]}, "run": ["staff-bot.link"]},
                       {"on": "telegram.callback", "when": {"channel": ["staff-bot"]},
                        "run": ["staff-bot.staff_action"]}],
        }
        self.start_daemon(config)

    def update(self, body: dict | bytes, secret: str | None = SECRET, instance: str = "telegram"):
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        return http_request("POST", self.daemon.url(f"/webhooks/{instance}/bot"), raw, headers)

    def text_update(self, chat_id: int, text: str = "Hello there") -> dict:
        return {"update_id": next_update_id(),
                "message": {"message_id": 7, "date": 1454119029, "text": text,
                            "from": {"id": chat_id, "first_name": "Saraa"},
                            "chat": {"id": chat_id, "type": "private", "first_name": "Saraa"}}}

    def sends_to(self, chat_id: int) -> list[dict]:
        return self.bot_api.accepted(method_name="sendMessage", chat_id=str(chat_id))

    def test_the_bot_api_s_example_update_is_answered_once_even_when_redelivered(self) -> None:
        if not FIXTURES.is_dir():
            self.skipTest("../shared/fixtures/telegram is not next to the repository")
        body = (FIXTURES / "courier-message-text.json").read_bytes()
        for _ in range(3):  # Telegram redelivers until it gets a 2xx
            self.assertEqual(self.update(body).status, 200)
        wait_until(lambda: self.sends_to(3527065), message="the reply through sendMessage")
        self.assertEqual(self.count("events WHERE tenant = 'bot' AND type = 'message.received'"), 1)
        self.assertEqual(self.count("webhook_events WHERE tenant = 'bot'"), 3)  # each delivery kept as received
        wait_until(lambda: self.count("messages WHERE tenant = 'bot' AND direction = 'outbound' AND status = 'sent' "
                                      "AND provider_message_id LIKE '3527065:%'") == 1 or None,
                   message="the sent reply recorded with its chat:message id")
        self.assertEqual(len(self.sends_to(3527065)), 1)

    def test_a_wrong_or_missing_secret_token_stores_nothing(self) -> None:
        update = self.text_update(5001)
        self.assertEqual(self.update(update, secret="wrong-secret-token").status, 401)
        self.assertEqual(self.update(update, secret=None).status, 401)
        self.assertEqual(self.count("webhook_events WHERE tenant = 'bot'"), 0)
        self.assertEqual(self.sends_to(5001), [])

    def test_a_flood_limit_defers_the_reply_without_spending_an_attempt(self) -> None:
        self.bot_api.fail(preset="flood", count=1, path=r"/sendMessage$")
        self.assertEqual(self.update(self.text_update(5002)).status, 200)
        wait_until(lambda: self.sends_to(5002), timeout=15.0, message="the reply after retry_after")
        refused = [r for r in self.bot_api.requests() if r.get("status") == 429]
        self.assertEqual(len(refused), 1)
        attempts = self.db.query("SELECT attempts FROM jobs WHERE tenant = 'bot' AND kind = 'command'")
        self.assertEqual([int(a[0]) for a in attempts], [1])  # the deferral did not count
        self.assertIn("deferred for 1000 ms", self.daemon.log())

    def test_set_webhook_registers_the_public_url_and_secret_token(self) -> None:
        config_file = self.daemon.config_path  # the running daemon's own configuration
        result = run_cli(["telegram", "set-webhook", "--config", str(config_file), "--tenant", "bot"])
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(json.loads(result.stdout), {"url": "https://bot.example.test/webhooks/telegram/bot"})
        registered = self.bot_api.accepted(method_name="setWebhook")
        self.assertEqual(len(registered), 1)
        self.assertEqual(registered[0]["url"], "https://bot.example.test/webhooks/telegram/bot")
        self.assertEqual(registered[0]["secret_token"], SECRET)
        self.assertEqual(registered[0]["allowed_updates"], ["message", "edited_message", "callback_query"])
        self.assertNotIn(TOKEN, result.stdout + result.stderr)
        unknown = run_cli(["telegram", "set-webhook", "--config", str(config_file), "--tenant", "nobody"])
        self.assertEqual(unknown.returncode, 1)
        self.assertIn("tenant 'nobody' has no plugin instance 'telegram'", unknown.stderr)

    def test_a_staff_link_code_links_the_chat_that_sends_start_to_the_staff_bot(self) -> None:
        minted = run_cli(["telegram", "link-code", "--config", str(self.daemon.config_path), "--tenant", "bot",
                          "--instance", "staff-bot", "--staff", "nurse-7"])
        self.assertEqual(minted.returncode, 0, minted.stderr)
        code = json.loads(minted.stdout)["code"]
        self.assertEqual(json.loads(minted.stdout)["link"], f"https://t.me/shop_staff_bot?start={code}")
        self.assertEqual(self.update(self.text_update(7001, f"/start {code}"), instance="staff-bot").status, 200)
        linked = wait_until(lambda: self.db.query("SELECT payload FROM events WHERE tenant = 'bot' "
                                                  "AND type = 'telegram.staff_linked'"), message="the staff link")
        self.assertEqual(json.loads(linked[0][0])["staff"], "nurse-7")
        self.assertEqual(json.loads(linked[0][0])["chat_id"], "7001")
        reply = wait_until(lambda: self.sends_to(7001), message="the staff bot's confirmation")
        self.assertIn(STAFF_TOKEN, reply[0]["path"])  # sent by the staff bot, not the customer bot
        self.assertEqual(self.db.query("SELECT v FROM kv WHERE tenant = 'bot' AND plugin = '@tenant' "
                                       "AND k = 'telegram.staff:nurse-7'"), [("7001",)])
        # The code is single use.
        self.assertEqual(self.update(self.text_update(7002, f"/start {code}"), instance="staff-bot").status, 200)
        again = wait_until(lambda: self.sends_to(7002), message="the refusal of a used code")
        self.assertIn("already used", again[0]["text"])

    def link_staff(self, staff: str, chat_id: int) -> None:
        minted = run_cli(["telegram", "link-code", "--config", str(self.daemon.config_path), "--tenant", "bot",
                          "--instance", "staff-bot", "--staff", staff])
        self.assertEqual(minted.returncode, 0, minted.stderr)
        code = json.loads(minted.stdout)["code"]
        self.assertEqual(self.update(self.text_update(chat_id, f"/start {code}"), instance="staff-bot").status, 200)
        wait_until(lambda: self.db.query("SELECT v FROM kv WHERE tenant = 'bot' AND plugin = '@tenant' AND "
                                         f"k = 'telegram.chat-staff:{chat_id}'"), message="the staff link")

    def test_a_staff_alert_s_button_emits_the_action_answers_the_callback_and_edits_the_alert(self) -> None:
        self.link_staff("nurse-7", 7101)
        alert = {"staff": "nurse-7", "text": "New appointment: Bold, Tue 14:00", "ref": "appt-42",
                 "actions": [{"title": "Confirm", "action": "confirm"}, {"title": "Reject", "action": "reject"}]}
        sent = run_cli(["command", "--config", str(self.daemon.config_path), "--tenant", "bot", "--instance",
                        "staff-bot", "telegram.alert", json.dumps(alert)])
        self.assertEqual(sent.returncode, 0, sent.stderr)
        message_id = json.loads(sent.stdout)["message_id"]
        delivered = [r for r in self.sends_to(7101) if r.get("reply_markup")]
        self.assertEqual(delivered[-1]["reply_markup"]["inline_keyboard"][0],
                         [{"text": "Confirm", "callback_data": "sb:confirm:appt-42"},
                          {"text": "Reject", "callback_data": "sb:reject:appt-42"}])
        press = {"update_id": next_update_id(),
                 "callback_query": {"id": "cbq-7101-1", "from": {"id": 7101, "first_name": "Nurse"},
                                    "chat_instance": "-1", "data": "sb:confirm:appt-42",
                                    "message": {"message_id": message_id, "date": 1700000000,
                                                "chat": {"id": 7101, "type": "private"},
                                                "text": alert["text"]}}}
        for _ in range(2):  # a redelivered press acts once
            self.assertEqual(self.update(press, instance="staff-bot").status, 200)
        action = wait_until(lambda: self.db.query("SELECT payload FROM events WHERE tenant = 'bot' AND "
                                                  "type = 'telegram.staff_action'"), message="the staff action event")
        self.assertEqual(len(action), 1)
        fields = json.loads(action[0][0])
        self.assertEqual((fields["staff"], fields["action"], fields["ref"]), ("nurse-7", "confirm", "appt-42"))
        answered = wait_until(lambda: self.bot_api.accepted(method_name="answerCallbackQuery"),
                              message="answerCallbackQuery")
        self.assertEqual(answered[0]["callback_query_id"], "cbq-7101-1")
        edited = wait_until(lambda: self.bot_api.accepted(method_name="editMessageText"), message="editMessageText")
        self.assertEqual(edited[0]["message_id"], message_id)
        self.assertEqual(edited[0]["chat_id"], "7101")
        self.assertIn("New appointment: Bold, Tue 14:00", edited[0]["text"])
        self.assertIn("confirm (nurse-7)", edited[0]["text"])
        self.assertIsNone(edited[0]["reply_markup"])  # the buttons are gone
        self.assertEqual(len(self.bot_api.accepted(method_name="editMessageText")), 1)

    def test_an_alert_for_a_staff_member_without_a_linked_chat_fails_clearly(self) -> None:
        result = run_cli(["command", "--config", str(self.daemon.config_path), "--tenant", "bot", "--instance",
                          "staff-bot", "telegram.alert", json.dumps({"staff": "nobody", "text": "x"})])
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("staff 'nobody' has no linked chat", result.stderr)

    def test_photos_and_quick_replies_are_sent_the_telegram_way(self) -> None:
        self.assertEqual(self.update(self.text_update(5101)).status, 200)
        wait_until(lambda: self.sends_to(5101), message="the first reply")
        reply = {"type": "message.send", "channel": "telegram", "recipient": {"provider_id": "5101"},
                 "text": "Our menu", "attachment": {"type": "image", "url": "https://cdn.example.test/menu.jpg"},
                 "quick_replies": [{"title": "Book"}, {"title": "Prices"}]}
        result = run_cli(["command", "--config", str(self.daemon.config_path), "--tenant", "bot", "--instance",
                          "telegram", "message.send", json.dumps(reply)])
        self.assertEqual(result.returncode, 0, result.stderr)
        photo = self.bot_api.accepted(method_name="sendPhoto")
        self.assertEqual(photo[0]["photo"], "https://cdn.example.test/menu.jpg")
        self.assertEqual(photo[0]["text"], "Our menu")
        self.assertEqual(photo[0]["reply_markup"]["keyboard"], [[{"text": "Book"}], [{"text": "Prices"}]])
