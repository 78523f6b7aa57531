"""Signed outbound webhooks against the running daemon: a route forwards each customer message to
the business's endpoint (tests/emulator/business_endpoint.py) through the webhook sink; every
delivery verifies with the official Standard Webhooks library (npm standardwebhooks, installed
under tests/verifiers by install-deps.sh --test), under both secrets during a rotation; failures
are retried on the sink's schedule with the same webhook-id; 410, or failing every delivery for
disable_after, disables the endpoint; a loopback URL is refused unless allowed; `switchboard
webhooks replay` sends a time range again under the same webhook ids."""

from __future__ import annotations

import base64
import json
import subprocess
import time

from harness import SOURCE_DIR, DaemonTestCase, run_cli
from business_endpoint import BusinessEndpoint  # noqa: E402 (harness puts the emulator on the path)

SECRET = "whsec_" + base64.b64encode(b"switchboard-test-key-0123456789ab").decode()
OLD_SECRET = "whsec_" + base64.b64encode(b"switchboard-old-key-0123456789abc").decode()
VERIFIER = SOURCE_DIR / "tests" / "verifiers" / "verify-standard-webhook.mjs"


def verify(secret: str, delivery: dict) -> dict:
    """The official library's verdict on one recorded delivery; fails the test when it refuses."""
    headers = {k.lower(): v for k, v in delivery["headers"].items() if k.lower().startswith("webhook-")}
    result = subprocess.run(["node", str(VERIFIER)], input=json.dumps(
        {"secret": secret, "headers": headers, "body": delivery["raw_body"]}), capture_output=True, text=True,
        timeout=30)
    if result.returncode != 0:
        raise AssertionError(f"standardwebhooks refused the delivery: {result.stdout} {result.stderr}")
    return json.loads(result.stdout)


class OutboundWebhookTest(DaemonTestCase):
    start_automatically = False

    def setUp(self) -> None:
        super().setUp()
        self.endpoint = self.emulator.add(BusinessEndpoint())

    def start(self, **webhook: object) -> None:
        config = self.make_config()
        tenant = config["tenants"]["demo"]
        tenant["plugins"]["webhook"] = {"url": self.emulator.url + "/business/hooks", "secret": SECRET,
                                        "allow_private": True, "retry_schedule": ["0s", "300ms", "300ms"], **webhook}
        tenant["routes"].append({"on": "message.received", "run": ["webhook.forward"]})
        self.start_daemon(config)

    def deliveries(self) -> list[dict]:
        return self.endpoint.requests()

    def test_each_message_is_delivered_signed_and_verifies_under_both_secrets_in_a_rotation(self) -> None:
        self.start(previous_secret=OLD_SECRET)
        contact, mid, _ = self.send_text(text="Is the red scarf in stock?")
        self.wait(lambda: len(self.endpoint.accepted()) == 1, "one delivery")
        delivery = self.endpoint.accepted()[0]
        payload = verify(SECRET, delivery)
        self.assertEqual(verify(OLD_SECRET, delivery), payload)
        self.assertEqual(payload["type"], "message.received")
        self.assertEqual(payload["data"]["provider_message_id"], mid)
        self.assertNotIn("raw", payload["data"])
        self.assertTrue(delivery["headers"]["webhook-id"].startswith("msg_"))
        self.assertEqual(len(delivery["headers"]["webhook-signature"].split(" ")), 2)
        self.assertNotIn(SECRET, self.daemon.log())

    def test_failed_deliveries_are_retried_on_the_schedule_with_the_same_id(self) -> None:
        self.start()
        self.endpoint.fail(preset="unavailable", count=2)
        self.send_text(text="hello")
        self.wait(lambda: len(self.endpoint.accepted()) == 1, "the third attempt to be accepted")
        ids = {r["headers"]["webhook-id"] for r in self.deliveries()}
        self.assertEqual(len(self.deliveries()), 3)
        self.assertEqual(len(ids), 1)  # one message, retried
        verify(SECRET, self.endpoint.accepted()[0])

    def test_410_disables_the_endpoint_and_files_an_event(self) -> None:
        self.start()
        self.endpoint.fail(preset="gone", count=1)
        self.send_text(text="first")
        self.wait(lambda: self.db.query("SELECT count(*) FROM events WHERE type = 'notify.webhook.disabled'")[0][0] == "1",
                  "notify.webhook.disabled")
        self.send_text(text="second")
        self.wait(lambda: self.db.query("SELECT count(*) FROM jobs WHERE state = 'dead'")[0][0] == "1",
                  "the next delivery to fail at once")
        self.assertEqual(len(self.deliveries()), 1)

    def test_an_endpoint_failing_for_disable_after_is_disabled(self) -> None:
        # Every delivery fails; the sink's schedule keeps retrying until disable_after has passed
        # since the first failure, then it switches the endpoint off with an event.
        self.start(disable_after="1s", retry_schedule=["0s", "400ms", "400ms", "400ms", "400ms", "400ms", "400ms"])
        self.endpoint.fail(preset="unavailable", count=None)
        self.send_text(text="hello")
        self.wait(lambda: self.db.query("SELECT count(*) FROM events WHERE type = 'notify.webhook.disabled'")[0][0] == "1",
                  "notify.webhook.disabled after a second of failures")
        self.assertIn("has failed every delivery", self.db.query(
            "SELECT payload FROM events WHERE type = 'notify.webhook.disabled'")[0][0])

    def test_replay_sends_a_time_range_again_with_the_same_webhook_ids(self) -> None:
        self.start()
        started_ms = int(time.time() * 1000) - 1000
        self.send_text(text="one")
        self.send_text(text="two")
        self.wait(lambda: len(self.endpoint.accepted()) == 2, "two deliveries")
        first_ids = sorted(r["headers"]["webhook-id"] for r in self.endpoint.accepted())
        result = run_cli(["webhooks", "replay", "--config", str(self.daemon.config_path), "--tenant", "demo",
                          "--endpoint", "webhook", "--since", str(started_ms)])
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("2 webhook message(s)", result.stdout)
        self.wait(lambda: len(self.endpoint.accepted()) == 4, "the two replayed deliveries")
        replayed = self.endpoint.accepted()[2:]
        self.assertEqual(sorted(r["headers"]["webhook-id"] for r in replayed), first_ids)
        for delivery in replayed:
            verify(SECRET, delivery)
        refused = run_cli(["webhooks", "replay", "--config", str(self.daemon.config_path), "--tenant", "demo",
                           "--endpoint", "webhook", "--since", "yesterday"])
        self.assertEqual(refused.returncode, 2)
        self.assertIn("--since TIME", refused.stderr)

    def test_a_loopback_url_is_refused_unless_allowed(self) -> None:
        self.start(allow_private=False)
        self.send_text(text="hello")
        self.wait(lambda: self.db.query("SELECT count(*) FROM jobs WHERE state = 'dead'")[0][0] == "1",
                  "the delivery to be refused")
        self.assertEqual(self.deliveries(), [])
