"""Real provider payloads from ../shared/fixtures (skipped when that directory is absent):
every authenticated payload is acknowledged and stored; customer messages are answered exactly
once when fresh, and never outside the 24-hour window; echoes and receipts are never answered."""

from __future__ import annotations

import json
import unittest
from pathlib import Path

from harness import SHARED_FIXTURES_DIR, DaemonTestCase, have_shared_fixtures, meta_body, unique_id

# What the daemon must do with each payload once ids and timestamps are fresh. Files not listed
# (new ones, or shapes whose handling the contract leaves open) are only required to be
# acknowledged and stored.
EXPECT = {
    "messenger/courier-page-text.json": "reply",
    "messenger/courier-page-attachment-image.json": "reply",
    "messenger/courier-page-sticker-thumbs-up.json": "reply",
    "messenger/courier-page-postback-referral.json": "reply",
    "messenger/courier-page-delivery.json": "none",
    "messenger/courier-page-echo.json": "none",
    "messenger/mseri-page-text-message.json": "reply",
    "messenger/mseri-page-attachment-image.json": "reply",
    "messenger/mseri-page-postback.json": "reply",
    "messenger/mseri-page-delivery.json": "none",
    "messenger/vlix-page-text-message.json": "reply",
    "messenger/vlix-event-text-quick-reply.json": "reply",
    "messenger/vlix-event-attachment-image.json": "reply",
    "messenger/vlix-event-postback.json": "reply",
    "messenger/vlix-event-postback-referral.json": "reply",
    "messenger/vlix-event-delivery.json": "none",
    "messenger/vlix-event-read.json": "none",
    "messenger/vlix-event-echo-text.json": "none",
    "messenger/vlix-event-echo-button-template.json": "none",
    "instagram/courier-ig-text.json": "reply",
    "instagram/courier-ig-attachment-image.json": "reply",
    "instagram/courier-ig-icebreaker-postback.json": "reply",
    "instagram/courier-ig-echo.json": "none",
}


def shared_files() -> list[tuple[str, str, Path]]:
    """(plugin, key, path) for every Messenger and Instagram payload in the shared fixtures."""
    files = []
    for plugin in ("messenger", "instagram"):
        for path in sorted((SHARED_FIXTURES_DIR / plugin).glob("*.json")):
            files.append((plugin, f"{plugin}/{path.name}", path))
    return files


def raw_body(plugin: str, path: Path) -> bytes:
    """The file's exact bytes; an event-level file ("*-event-*": one messaging[] element) is wrapped
    in a page body textually, so its own bytes stay untouched inside."""
    data = path.read_bytes()
    if "-event-" not in path.name:
        return data
    event = json.loads(data)
    page = event["recipient"]["id"] if not event.get("message", {}).get("is_echo") else event["sender"]["id"]
    prefix = ('{"object":"%s","entry":[{"id":"%s","time":%d,"messaging":[' %
              ("page" if plugin == "messenger" else "instagram", page, event.get("timestamp", 0))).encode()
    return prefix + data.rstrip() + b"]}]}"


def fresh_body(plugin: str, path: Path, account_id: str, contact_id: str) -> dict:
    body = json.loads(raw_body(plugin, path))
    return meta_body(body, account_id=account_id, contact_id=contact_id)


@unittest.skipUnless(have_shared_fixtures(), f"shared fixtures not found at {SHARED_FIXTURES_DIR}")
class SharedFixturesTest(DaemonTestCase):
    def test_exact_bytes_are_acknowledged_and_old_messages_never_answered(self) -> None:
        posted = 0
        old_customers = set()
        for plugin, key, path in shared_files():
            with self.subTest(key):
                raw = raw_body(plugin, path)
                result = self.post_webhook(plugin, raw)
                self.assertEqual(result.status, 200, f"{key}: {result!r}")
                posted += 1
                for entry in json.loads(raw).get("entry", []):
                    for event in entry.get("messaging", []) + entry.get("standby", []):
                        if isinstance(event.get("timestamp"), int) and not event.get("message", {}).get("is_echo"):
                            old_customers.add(str(event["sender"]["id"]))
        self.assertEqual(self.count("webhook_events"), posted, "every authenticated payload is stored")
        self.wait_idle()
        # These payloads are years old: the 24-hour window is closed for all of them.
        sent = [r for r in self.graph.requests() if r.get("recipient") in old_customers]
        self.assertEqual(sent, [], "a reply went out to a conversation outside the 24-hour window")

    def test_fresh_payloads_get_the_expected_handling(self) -> None:
        outcomes = {}
        for plugin, key, path in shared_files():
            contact = unique_id()
            body = fresh_body(plugin, path, self.demo.account_for(plugin), contact)
            result = self.post_webhook(plugin, body)
            with self.subTest(key, step="post"):
                self.assertEqual(result.status, 200, f"{key}: {result!r}")
            outcomes[key] = (plugin, contact)
        self.wait_idle()
        for key, (plugin, contact) in outcomes.items():
            expected = EXPECT.get(key, "ack")
            with self.subTest(key, expected=expected):
                if expected == "reply":
                    self.assert_exactly_one_reply(contact, self.demo.token_for(plugin))
                elif expected == "none":
                    self.assertEqual(self.attempts_to(contact), [])


if __name__ == "__main__":
    unittest.main()
