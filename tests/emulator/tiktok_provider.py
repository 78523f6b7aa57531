"""TikTok Business Messaging API emulator: POST /open_api/v1.3/business/message/send/ with the
Access-Token header, mounted at /tiktok (a tenant's api_base is <emulator>/tiktok).

Answers as the Business API does: HTTP 200 with {"code": 0, "message": "OK", "request_id",
"data": {"message": {"message_id"}}}, or a non-zero code: 40105 for an unknown Access-Token, 40002
for a body without business_id, recipient or text.body, and 40100 ("Too many requests") past
daily_limit messages to one conversation in one UTC day (TikTok's own rule, which the channel
must enforce first, so a test asserts it never fires). Presets: "too_many_requests" (40100),
"unavailable" (HTTP 503).

sign(client_secret, timestamp_s, body) computes a Tiktok-Signature header value for the webhooks a
test posts: "t=<timestamp>,s=<hex HMAC-SHA256 of '<timestamp>.<body>'>".
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import time
from collections import Counter
from typing import Any

from provider_emulator import Provider, Request, Response


def sign(client_secret: str, timestamp_s: int, body: bytes) -> str:
    mac = hmac.new(client_secret.encode(), f"{timestamp_s}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp_s},s={mac}"


def tiktok_error(code: int, message: str, status: int = 200) -> Response:
    return Response(status, {"code": code, "message": message, "request_id": "emu", "data": {}})


class TikTokProvider(Provider):
    name = "tiktok"
    mount = "/tiktok"

    def __init__(self, access_token: str, daily_limit: int = 10):
        super().__init__()
        self.access_token, self.daily_limit = access_token, daily_limit
        self._ids = itertools.count(1)
        self._sent_today: Counter[tuple[str, int]] = Counter()

    def matches(self, path: str) -> bool:
        return path == "/open_api/v1.3/business/message/send/"

    def presets(self) -> dict[str, Response]:
        return {"too_many_requests": tiktok_error(40100, "Too many requests. Please retry in some time."),
                "unavailable": Response(503, b"Service Unavailable")}

    def describe_request(self, request: Request, exchange: dict[str, Any]) -> None:
        try:
            exchange["recipient"] = request.json().get("recipient")
        except (ValueError, AttributeError):
            pass

    def handle(self, request: Request, record: dict[str, Any]) -> Response:
        if request.header("Access-Token") != self.access_token:
            return tiktok_error(40105, "The access token is invalid or has been revoked.")
        try:
            body = request.json()
        except ValueError:
            return tiktok_error(40002, "Invalid JSON")
        recipient, text = body.get("recipient"), (body.get("text") or {}).get("body")
        record.update(recipient=recipient, text=text)
        if not body.get("business_id") or not recipient or not text:
            return tiktok_error(40002, "business_id, recipient and text.body are required")
        day = int(time.time() // 86400)
        with self._lock:
            if self._sent_today[(recipient, day)] >= self.daily_limit:
                record["daily_limit_exceeded"] = True
                return tiktok_error(40100, "Too many requests: daily message limit to this user reached")
            self._sent_today[(recipient, day)] += 1
        message_id = f"tt-msg-{next(self._ids)}"
        record["message_id"] = message_id
        return Response(200, {"code": 0, "message": "OK", "request_id": "emu",
                              "data": {"message": {"message_id": message_id}}})
