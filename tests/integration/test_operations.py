"""What an operator relies on: Prometheus metrics, and logs that name tenant and plugin but never
carry secrets or message text."""

from __future__ import annotations

import re
import unittest
import urllib.parse

from harness import DaemonTestCase, http_request, meta_body, sign, unique_id

_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text: str) -> list[tuple[str, dict[str, str], float]]:
    """Samples of a Prometheus text exposition (format 0.0.4) as (name, labels, value)."""
    samples = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        match = _SAMPLE.match(line.strip())
        if not match:
            raise AssertionError(f"not a Prometheus sample line: {line!r}")
        name, labels, value = match.groups()
        samples.append((name, dict(_LABEL.findall(labels or "")), float(value)))
    return samples


class MetricsTest(DaemonTestCase):
    def metrics(self) -> tuple[str, list[tuple[str, dict[str, str], float]]]:
        result = http_request("GET", self.daemon.url("/metrics"))
        self.assertEqual(result.status, 200, result)
        self.assertTrue(result.headers.get("content-type", "").startswith("text/plain"), result.headers)
        return result.text, parse_metrics(result.text)

    def test_metrics_expose_the_documented_series(self) -> None:
        self.graph.fail(500, "oops", count=1)
        contact, _, _ = self.send_text()
        self.assert_exactly_one_reply(contact)
        bad = self.post_webhook("messenger", meta_body("messenger/text.json", account_id=self.demo.page_id,
                                                        contact_id=unique_id()), signature="sha256=00")
        self.assertEqual(bad.status, 401)

        text, samples = self.metrics()

        def find(name: str, **labels: str) -> list[tuple[str, dict[str, str], float]]:
            return [s for s in samples if s[0] == name and all(s[1].get(k) == v for k, v in labels.items())]

        requests = find("switchboard_http_requests_total")
        self.assertTrue(requests, text)
        for _, labels, _ in requests:
            self.assertTrue({"route", "method", "status"} <= set(labels), labels)
        self.assertGreaterEqual(sum(v for _, _, v in find("switchboard_http_requests_total", method="POST",
                                                         status="200")), 1, text)
        self.assertGreaterEqual(sum(v for _, _, v in find("switchboard_http_requests_total", method="POST",
                                                         status="401")), 1, text)

        self.assertGreaterEqual(sum(v for _, _, v in find("switchboard_events_total", type="message.received")), 1,
                                text)
        jobs = find("switchboard_jobs")
        self.assertTrue(jobs and all("state" in labels for _, labels, _ in jobs), text)

        attempts = find("switchboard_delivery_attempts_total", plugin="messenger")
        self.assertTrue(attempts and all("outcome" in labels for _, labels, _ in attempts), text)
        self.assertGreaterEqual(sum(v for _, _, v in attempts), 2, "one failed and one successful attempt")
        self.assertGreaterEqual(len({labels["outcome"] for _, labels, v in attempts if v > 0}), 2,
                                "failed and successful attempts have different outcomes")

        self.assertRegex(text, r"(?m)^# TYPE switchboard_delivery_latency_seconds histogram$")
        buckets = find("switchboard_delivery_latency_seconds_bucket")
        self.assertTrue(buckets and all("le" in labels for _, labels, _ in buckets), text)
        counts = find("switchboard_delivery_latency_seconds_count")
        self.assertTrue(counts, text)
        total = sum(v for _, _, v in counts)
        self.assertGreaterEqual(total, 1)
        self.assertEqual(sum(v for _, labels, v in buckets if labels["le"] == "+Inf"), total,
                         "the +Inf bucket counts every observation")
        self.assertTrue(find("switchboard_delivery_latency_seconds_sum"), text)


class LoggingTest(DaemonTestCase):
    def test_logs_name_tenant_and_plugin_but_no_secret_or_message_text(self) -> None:
        marker = "my card number is 4111 1111 1111 1111 " + unique_id()
        query = urllib.parse.urlencode({"hub.mode": "subscribe", "hub.verify_token": self.demo.verify_token,
                                        "hub.challenge": "42"})
        self.assertEqual(http_request("GET", self.daemon.url(f"/webhooks/messenger/demo?{query}")).status, 200)
        wrong = urllib.parse.urlencode({"hub.mode": "subscribe", "hub.verify_token": "guess-" + self.demo.app_secret,
                                        "hub.challenge": "42"})
        self.assertEqual(http_request("GET", self.daemon.url(f"/webhooks/messenger/demo?{wrong}")).status, 403)
        self.graph.fail(500, "oops", count=1)
        contact, _, _ = self.send_text(text=marker)
        ig_contact, _, _ = self.send_text("instagram", text=marker + " ig")
        reply = self.assert_exactly_one_reply(contact)
        self.assert_exactly_one_reply(ig_contact)
        raw = meta_body("messenger/text.json", account_id=self.demo.page_id, contact_id=unique_id(), text=marker)
        self.assertEqual(self.post_webhook("messenger", raw, signature=sign("wrong", b"x")).status, 401)
        self.assertEqual(self.daemon.stop(), 0)

        log = self.daemon.log()
        self.assertTrue(log.strip(), "the daemon logs to stderr")
        for secret in self.demo.secrets() + self.other.secrets():
            self.assertNotIn(secret, log, "a secret leaked into the log")
        self.assertNotIn(marker[:30], log, "message text leaked into the log")
        if len(reply["text"]) >= 16:
            self.assertNotIn(reply["text"], log, "reply text leaked into the log")
        self.assertRegex(log, r"tenant=demo", "log lines carry the tenant")
        self.assertRegex(log, r"plugin=messenger", "log lines carry the plugin")


if __name__ == "__main__":
    unittest.main()
