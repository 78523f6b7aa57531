"""Ingress: the subscription handshake, signature checks, size limits, routing errors, and the
acknowledge-after-commit rule, against the real daemon."""

from __future__ import annotations

import urllib.parse

from harness import DaemonTestCase, http_request, load_fixture, meta_body, meta_json, now_ms, sign, unique_id


class HandshakeTest(DaemonTestCase):
    def handshake(self, plugin: str, token: str, challenge: str = "1158201444", mode: str = "subscribe"):
        query = urllib.parse.urlencode({"hub.mode": mode, "hub.verify_token": token, "hub.challenge": challenge})
        return http_request("GET", self.daemon.url(f"/webhooks/{plugin}/{self.demo.name}?{query}"))

    def test_handshake_answers_the_challenge(self) -> None:
        for plugin in ("messenger", "instagram"):
            with self.subTest(plugin):
                result = self.handshake(plugin, self.demo.verify_token, challenge="1158201444")
                self.assertEqual(result.status, 200, result)
                self.assertEqual(result.text, "1158201444")

    def test_handshake_with_wrong_token_is_403(self) -> None:
        for plugin in ("messenger", "instagram"):
            with self.subTest(plugin):
                result = self.handshake(plugin, "not-the-token")
                self.assertEqual(result.status, 403, result)
                self.assertNotIn("1158201444", result.text)
        # Another tenant's verify token does not open this tenant's subscription.
        result = self.handshake("messenger", self.other.verify_token)
        self.assertEqual(result.status, 403, result)


class SignatureTest(DaemonTestCase):
    def assert_nothing_stored(self) -> None:
        self.assertEqual(self.count("webhook_events"), 0)
        self.assertEqual(self.count("messages"), 0)
        self.assertEqual(self.count("jobs"), 0)

    def test_missing_signature_is_401_and_nothing_stored(self) -> None:
        contact = unique_id()
        body = meta_body("messenger/text.json", account_id=self.demo.page_id, contact_id=contact)
        result = self.post_webhook("messenger", body, signature="")
        self.assertEqual(result.status, 401, result)
        self.assert_nothing_stored()
        self.assert_no_reply(contact)

    def test_bad_signatures_are_401_and_nothing_stored(self) -> None:
        contact = unique_id()
        body = meta_body("messenger/text.json", account_id=self.demo.page_id, contact_id=contact)
        raw = meta_json(body)
        tampered = raw.replace(b"Hello", b"Hellp") if b"Hello" in raw else raw + b" "
        cases = {
            "wrong secret": sign("not-the-app-secret", raw),
            "other tenant's secret": sign(self.other.app_secret, raw),
            "instagram secret on messenger": sign(self.demo.ig_app_secret, raw),
            "signature of other bytes": sign(self.demo.app_secret, tampered),
            "no sha256= prefix": sign(self.demo.app_secret, raw)[len("sha256="):],
            "truncated": sign(self.demo.app_secret, raw)[:-2],
            "uppercase garbage": "sha256=" + "F" * 64,
            "empty digest": "sha256=",
        }
        for name, signature in cases.items():
            with self.subTest(name):
                result = self.post_webhook("messenger", raw, signature=signature)
                self.assertEqual(result.status, 401, result)
        with self.subTest("only the legacy sha1 header"):
            result = self.post_webhook("messenger", raw, signature="", headers={"X-Hub-Signature": "sha1=" + "0" * 40})
            self.assertEqual(result.status, 401, result)
        with self.subTest("by payload routing"):
            result = self.post_webhook("messenger", raw, by_payload=True, signature=sign("wrong", raw))
            self.assertEqual(result.status, 401, result)
        self.assert_nothing_stored()
        self.assert_no_reply(contact)

    def test_signature_covers_the_exact_bytes(self) -> None:
        # Meta signs its own serialization (non-ASCII as \\u escapes, its own whitespace); the
        # daemon must hash the bytes as received, not a re-serialization.
        contact = unique_id()
        mid = "m_" + unique_id()
        raw = (
            '{ "object" : "page",\n\t"entry": [ { "id": "%s", "time": %d,\n "messaging": [ {'
            '"sender": {"id": "%s"}, "recipient": {"id": "%s"}, "timestamp": %d,'
            '"message": {"mid": "%s", "text": "\\u00e4\\u00f6\\u00e5 \\/ \\u0441\\u0430\\u0439\\u043d"}} ] } ] }\n'
        ) % (self.demo.page_id, now_ms(), contact, self.demo.page_id, now_ms(), mid)
        body = raw.encode("ascii")
        result = self.post_webhook("messenger", body)
        self.assertEqual(result.status, 200, result)
        stored = self.scalar("SELECT body FROM webhook_events")
        self.assertEqual(stored, raw, "the raw body must be stored exactly as received")
        self.assertEqual(self.scalar(f"SELECT text FROM messages WHERE provider_message_id = '{mid}'"),
                         "äöå / сайн")
        self.assert_exactly_one_reply(contact, self.demo.page_token)


class LimitsAndRoutingTest(DaemonTestCase):
    def test_body_over_max_body_bytes_is_413(self) -> None:
        contact = unique_id()
        body = meta_body("messenger/text.json", account_id=self.demo.page_id, contact_id=contact,
                         text="x" * 70000)  # max_body_bytes is 65536 in the test config
        result = self.post_webhook("messenger", body)
        self.assertEqual(result.status, 413, result)
        self.assertEqual(self.count("webhook_events"), 0)
        self.assert_no_reply(contact)
        # Just under the limit is fine.
        near = meta_body("messenger/text.json", account_id=self.demo.page_id, contact_id=contact,
                         text="y" * 60000)
        self.assertEqual(self.post_webhook("messenger", near).status, 200)

    def test_unknown_plugin_or_tenant_is_404(self) -> None:
        body = meta_json(meta_body("messenger/text.json", account_id=self.demo.page_id, contact_id=unique_id()))
        headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sign(self.demo.app_secret, body)}
        for path in ("/webhooks/nosuchplugin/demo", "/webhooks/messenger/nosuchtenant",
                     "/webhooks/nosuchplugin"):
            with self.subTest(path):
                result = http_request("POST", self.daemon.url(path), body, headers)
                self.assertEqual(result.status, 404, result)
        query = "?hub.mode=subscribe&hub.verify_token=x&hub.challenge=1"
        self.assertEqual(http_request("GET", self.daemon.url("/webhooks/messenger/nosuchtenant" + query)).status, 404)
        self.assertEqual(http_request("GET", self.daemon.url("/no/such/route")).status, 404)
        self.assertEqual(self.count("webhook_events"), 0)

    def test_unknown_account_in_payload_is_refused_and_not_stored(self) -> None:
        # No tenant owns this page id, so no app secret can authenticate the payload.
        body = meta_body("messenger/text.json", account_id="999999999999999", contact_id=unique_id())
        result = self.post_webhook("messenger", body, by_payload=True)
        self.assertIn(result.status, (401, 403, 404), result)
        self.assertEqual(self.count("webhook_events"), 0)
        self.assertEqual(self.graph.requests(), [])

    def test_healthz(self) -> None:
        self.assertEqual(http_request("GET", self.daemon.url("/healthz")).status, 200)


class DurabilityOnIngressTest(DaemonTestCase):
    def test_acknowledged_body_is_already_committed(self) -> None:
        contact = unique_id()
        body = meta_json(meta_body("messenger/text.json", account_id=self.demo.page_id, contact_id=contact))
        result = self.post_webhook("messenger", body)
        self.assertEqual(result.status, 200, result)
        # No waiting: a 200 means the raw body is committed.
        rows = self.rows("SELECT tenant, plugin, body FROM webhook_events")
        self.assertEqual(rows, [("demo", "messenger", body.decode("ascii"))])
        self.assert_exactly_one_reply(contact, self.demo.page_token)

    def test_unhandled_authenticated_payload_is_stored_and_acknowledged(self) -> None:
        body = meta_body(load_fixture("messenger/feed-change.json"), account_id=self.demo.page_id,
                         contact_id=unique_id())
        result = self.post_webhook("messenger", body)
        self.assertEqual(result.status, 200, result)
        self.assertEqual(self.rows("SELECT tenant, plugin, status FROM webhook_events"),
                         [("demo", "messenger", "unhandled")])
        self.wait_idle()
        self.assertEqual(self.graph.requests(), [])

    def test_handled_payload_is_marked_handled(self) -> None:
        contact, _, _ = self.send_text()
        self.assertEqual(self.rows("SELECT status FROM webhook_events"), [("handled",)])
        self.assert_exactly_one_reply(contact)


if __name__ == "__main__":
    import unittest
    unittest.main()
