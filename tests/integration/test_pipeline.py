"""The pipeline end to end, against the running daemon: events that stages emit and that command
results carry are routed; GET callbacks are stored, deduplicated and routed; first_of chains fall
through on a hung or failing tier; a stage reads its conversation's history; two instances of one
plugin in one tenant keep their URLs, settings and conversations apart; a slow stage or a retrying
command never holds up a reply elsewhere; OPTIONS reaches the plugin.

Uses the `faulty` fixture plugin (tests/plugins/faulty_plugin.cpp) as channel and stage plugin,
and a local HTTP server standing in for its provider: GET /reply is the "model" the fetch stage
asks (answers, fails with 500 or hangs on demand), POST /send receives replies."""

from __future__ import annotations

import http.server
import json
import os
import threading
import time
import urllib.parse

from harness import DaemonTestCase, http_request, unique_id, wait_until

FIXTURE_PLUGINS = os.environ.get("SWITCHBOARD_TEST_PLUGIN_DIR", "")
PUBLIC_URL = "https://bot.example.test"


class FakeProvider(http.server.ThreadingHTTPServer):
    """GET /reply → per `mode`: "ok" (200 "model reply"), "fail" (500) or "hang" (no answer until
    stop()). POST /send → recorded with the time it arrived."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), FakeProviderHandler)
        self.mode = "ok"
        self.sends: list[dict] = []
        self.lock = threading.Lock()
        self.released = threading.Event()
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def start(self) -> "FakeProvider":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.released.set()
        self.shutdown()
        self.server_close()

    def sent(self) -> list[dict]:
        with self.lock:
            return list(self.sends)


class FakeProviderHandler(http.server.BaseHTTPRequestHandler):
    server: FakeProvider

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        if self.server.mode == "hang":
            self.server.released.wait(60)
            return
        status, body = (500, b"model unavailable") if self.server.mode == "fail" else (200, b"model reply")
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
        body["path"] = self.path
        body["idempotency_key"] = self.headers.get("Idempotency-Key")
        body["at"] = time.monotonic()
        with self.server.lock:
            self.server.sends.append(body)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")


class PipelineTest(DaemonTestCase):
    start_automatically = False

    def setUp(self) -> None:
        super().setUp()
        if not FIXTURE_PLUGINS or not os.path.isdir(FIXTURE_PLUGINS):
            self.skipTest("SWITCHBOARD_TEST_PLUGIN_DIR is not set")
        self.provider = FakeProvider().start()
        self.staff = FakeProvider().start()
        self.addCleanup(self.provider.stop)
        self.addCleanup(self.staff.stop)

    def start_shop(self, routes: list, *, faulty: dict | None = None, delivery: dict | None = None) -> None:
        """Tenant "shop": the faulty plugin as channel (replies to self.provider), its second
        instance "faulty-staff" (replies to self.staff), templates; `routes` as given."""
        config = self.make_config(server={"public_url": PUBLIC_URL + "/"}, delivery=delivery)
        config["plugins"]["paths"].append(FIXTURE_PLUGINS)
        config["tenants"]["shop"] = {
            "plugins": {
                "faulty": {"mode": "ok", "reply_url": self.provider.url + "/reply",
                           "send_url": self.provider.url + "/send", **(faulty or {})},
                "faulty-staff": {"use": "faulty", "send_url": self.staff.url + "/send"},
                "templates": {"locale": "en"},
            },
            "routes": routes,
        }
        self.start_daemon(config)

    def say(self, text: str, *, sender: str | None = None, instance: str = "faulty") -> str:
        sender = sender or unique_id("c")
        body = json.dumps({"id": "m_" + unique_id(), "from": sender, "text": text}).encode()
        result = http_request("POST", self.daemon.url(f"/webhooks/{instance}/shop"), body,
                              {"Content-Type": "application/json"})
        self.assertEqual(result.status, 200, result)
        return sender

    def events(self, type_: str) -> list[dict]:
        rows = self.db.query(f"SELECT payload FROM events WHERE tenant = 'shop' AND type = '{type_}' ORDER BY id")
        return [json.loads(r[0]) for r in rows]

    def reply_to(self, provider: FakeProvider, sender: str, timeout: float = 10.0) -> dict:
        return wait_until(lambda: next((s for s in provider.sent() if s["to"] == sender), None), timeout,
                          message=f"a reply to {sender}")

    # ---- routing of emitted events and command results ----------------------------------------
    def test_a_stage_s_conversation_escalated_triggers_a_second_route(self) -> None:
        self.start_shop([{"on": "message.received", "run": ["templates.reply"]},
                         {"on": "conversation.escalated", "run": [{"stage": "faulty.relay"}]}])
        sender = self.say("I want to talk to an operator")
        self.reply_to(self.provider, sender)
        relayed = wait_until(lambda: self.events("fixture.relayed"), message="the second route's event")
        self.assertEqual(relayed[0]["seen"], "conversation.escalated")
        self.assertEqual(relayed[0]["chain_depth"], 2)

    def test_a_command_result_event_triggers_a_route(self) -> None:
        self.start_shop([{"on": "message.received", "run": ["faulty.record"]},
                         {"on": "faulty.recorded", "run": ["faulty.relay"]}])
        self.say("record this")
        relayed = wait_until(lambda: self.events("fixture.relayed"), message="the route on the command's result")
        self.assertEqual(relayed[0]["seen"], "faulty.recorded")
        recorded = self.events("faulty.recorded")
        self.assertEqual(len(recorded), 1)
        self.assertEqual(recorded[0]["count"], 1)
        self.assertEqual(len(recorded[0]["idempotency_key"]), 32)

    def test_a_get_callback_is_stored_deduplicated_and_routed(self) -> None:
        self.start_shop([{"on": "payment.completed", "run": ["faulty.relay"]}])
        for _ in range(2):  # the provider retries its callback
            result = http_request("GET", self.daemon.url("/webhooks/faulty/shop?payment_id=P-1&x=a%20b"))
            self.assertEqual(result.status, 200, result)
        wait_until(lambda: self.events("fixture.relayed"), message="the route on the callback's event")
        payments = self.events("payment.completed")
        self.assertEqual(len(payments), 1)  # one event per dedupe key
        self.assertEqual(payments[0]["public_url"], PUBLIC_URL + "/webhooks/faulty/shop?payment_id=P-1&x=a%20b")
        self.assertEqual(self.count("webhook_events WHERE tenant = 'shop'"), 2)  # both stored as received

    def test_options_reaches_the_plugin_and_its_headers_are_sent(self) -> None:
        self.start_shop([])
        result = http_request("OPTIONS", self.daemon.url("/webhooks/faulty/shop"))
        self.assertEqual(result.status, 204, result)
        self.assertEqual(result.headers.get("access-control-allow-origin"), "*")
        self.assertEqual(self.count("webhook_events WHERE tenant = 'shop'"), 0)

    # ---- first_of ------------------------------------------------------------------------------
    def first_of_routes(self, budget: str) -> list:
        return [{"on": "message.received", "run": [{"first_of": [
            {"stage": "faulty.fetch", "budget": budget},
            {"stage": "faulty.reply", "with": {"text": "sorry, the assistant is busy"}}]}]}]

    def test_first_of_answers_from_the_second_tier_when_the_first_hangs(self) -> None:
        self.provider.mode = "hang"
        self.start_shop(self.first_of_routes("1s"))
        started = time.monotonic()
        sender = self.say("hello")
        reply = self.reply_to(self.provider, sender)
        self.assertEqual(reply["text"], "sorry, the assistant is busy")
        self.assertLess(reply["at"] - started, 1.0 + 3.0)  # budget + margin
        # Either the host stopped waiting at the budget (late) or the plugin's own HTTP timeout,
        # set from the call's deadline, fired a moment before: both fall through in time.
        self.assertRegex(self.daemon.log(), r"first_of: faulty\.fetch fell through \((late|failed: timed out)")

    def test_first_of_falls_through_at_once_when_the_first_tier_fails(self) -> None:
        self.provider.mode = "fail"
        self.start_shop(self.first_of_routes("8s"))
        started = time.monotonic()
        sender = self.say("hello")
        reply = self.reply_to(self.provider, sender)
        self.assertEqual(reply["text"], "sorry, the assistant is busy")
        self.assertLess(reply["at"] - started, 3.0)  # far below the 8 s budget

    def test_first_of_uses_the_first_tier_when_it_answers(self) -> None:
        self.start_shop(self.first_of_routes("5s"))
        sender = self.say("hello")
        self.assertEqual(self.reply_to(self.provider, sender)["text"], "model reply")

    # ---- history -------------------------------------------------------------------------------
    def test_a_stage_reads_the_last_messages_of_its_conversation(self) -> None:
        self.start_shop([{"on": "message.received", "run": [{"stage": "faulty.history", "with": {"count": 3}}]}])
        sender = self.say("one")
        for text in ("two", "three", "four"):
            self.say(text, sender=sender)
        histories = wait_until(lambda: len(h := self.events("fixture.history")) == 4 and h, message="four history events")
        texts = [m["text"] for m in histories[-1]["messages"]]
        self.assertEqual(texts, ["two", "three", "four"])  # the last 3, newest last
        self.assertTrue(all(m["direction"] == "in" for m in histories[-1]["messages"]))

    # ---- instances -----------------------------------------------------------------------------
    def test_two_instances_of_one_plugin_keep_urls_settings_and_conversations_apart(self) -> None:
        self.start_shop([{"on": "message.received", "run": [{"stage": "faulty.reply", "with": {"text": "customer bot"}}],
                          "when": {"channel": ["faulty"]}},
                         {"on": "message.received", "run": [{"stage": "faulty.reply", "with": {"text": "staff bot"}}],
                          "when": {"channel": ["faulty-staff"]}}])
        customer = self.say("hi", instance="faulty")
        colleague = self.say("hi", sender=customer, instance="faulty-staff")  # same sender id on both bots
        self.assertEqual(self.reply_to(self.provider, customer)["text"], "customer bot")
        staff_reply = self.reply_to(self.staff, colleague)
        self.assertEqual(staff_reply["text"], "staff bot")
        self.assertEqual(staff_reply["instance"], "faulty-staff")
        self.assertEqual([s["to"] for s in self.staff.sent()], [colleague])
        self.assertEqual(self.count("conversations WHERE tenant = 'shop'"), 2)
        self.assertEqual(self.count("conversations WHERE tenant = 'shop' AND channel = 'faulty-staff'"), 1)

    # ---- nothing holds up a reply --------------------------------------------------------------
    def test_a_twenty_second_stage_does_not_delay_replies_in_another_conversation(self) -> None:
        self.start_shop([{"on": "message.received", "when": {"text": ["slow"]},
                          "run": [{"stage": "faulty.wait", "with": {"ms": "20000"}}]},
                         {"on": "message.received", "when": {"text": ["hi"]}, "run": ["faulty.reply"]}],
                        delivery={"workers": 4, "lease": "60s"})
        slow = self.say("slow")
        started = time.monotonic()
        fast = self.say("hi")
        reply = self.reply_to(self.provider, fast, timeout=5.0)
        self.assertLess(reply["at"] - started, 5.0)
        self.assertFalse([s for s in self.provider.sent() if s["to"] == slow])
        # The slow stage finishes and answers too (nothing lost).
        self.reply_to(self.provider, slow, timeout=30.0)

    def test_a_retrying_command_does_not_delay_a_reply(self) -> None:
        self.start_shop([{"on": "message.received", "run": ["faulty.record", "faulty.reply"]}],
                        faulty={"fail_records": "1000"}, delivery={"backoff_initial": "2s", "backoff_max": "5s"})
        sender = self.say("hi")
        self.reply_to(self.provider, sender)
        wait_until(lambda: self.count("jobs WHERE tenant = 'shop' AND kind = 'command' AND state = 'pending' "
                                      "AND last_error LIKE '%CRM unavailable%'") == 1 or None,
                   message="the record command waiting for its retry")


if __name__ == "__main__":
    import unittest
    unittest.main()
