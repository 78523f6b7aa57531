"""WhatsApp send APIs: the Cloud API Messages endpoint (POST /v<version>/<phone-number-id>/messages
with "Authorization: Bearer <token>", mounted at /whatsapp, so a tenant's api_base is
<emulator>/whatsapp/v21.0) and 360dialog's (POST /messages with "D360-API-KEY", mounted at
/360dialog).

Answers as the Cloud API does (developers.facebook.com/docs/whatsapp/cloud-api/reference/messages):
{"messaging_product": "whatsapp", "contacts": [{"input", "wa_id"}], "messages": [{"id": "wamid..."}]}
or a Graph error body {"error": {"message", "type", "code", "error_data"?, "fbtrace_id"}}.
Unknown tokens get 401 with code 190; a body without messaging_product, "to" or a valid message
object gets 400 with code 100. Presets: "throughput" (400, code 130429), "pair_rate" (400, 131056),
"re_engagement" (400, 131047), "rate_limited" (429 with Retry-After: 1), "unavailable" (503).
wamids are handed out in order ("wamid.EMU<n>"), so a test can post a status for the next one
before the send happens (next_wamid()). With throughput=(count, seconds) the number's throughput
is a token bucket as at Meta: a send beyond it is refused with 400, code 130429.
"""

from __future__ import annotations

import itertools
import re
import time
from typing import Any, Iterable

from provider_emulator import Provider, Request, Response

MESSAGE_TYPES = {"text", "image", "video", "audio", "document", "sticker", "interactive", "template", "location",
                 "contacts", "reaction"}


def cloud_error(status: int, code: int, message: str, details: str = "") -> Response:
    error: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "EMU"}
    if details:
        error["error_data"] = {"messaging_product": "whatsapp", "details": details}
    return Response(status, {"error": error})


class WhatsAppProvider(Provider):
    """The Cloud API Messages endpoint. `tokens`: accepted bearer tokens (None = any)."""

    name = "whatsapp"
    mount = "/whatsapp"
    _path = re.compile(r"^(?:/v[0-9.]+)?/([^/]+)/messages$")

    def __init__(self, tokens: Iterable[str] | None = None, throughput: tuple[int, float] | None = None):
        super().__init__()
        self.tokens = set(tokens) if tokens is not None else None
        self._counter = itertools.count(1)
        self._next = next(self._counter)
        self.throughput = throughput
        self._bucket: tuple[float, float] | None = None  # (tokens, at monotonic seconds)

    def _over_throughput(self) -> bool:
        """Takes a token from the throughput bucket; True when there was none."""
        if self.throughput is None:
            return False
        count, seconds = self.throughput
        now = time.monotonic()
        with self._lock:
            tokens, at = self._bucket if self._bucket else (float(count), now)
            tokens = min(float(count), tokens + (now - at) * count / seconds)
            if tokens < 1.0:
                self._bucket = (tokens, now)
                return True
            self._bucket = (tokens - 1.0, now)
            return False

    def matches(self, path: str) -> bool:
        return self._path.match(path) is not None

    def presets(self) -> dict[str, Response]:
        return {
            "throughput": cloud_error(400, 130429, "Rate limit hit",
                                      "Cloud API message throughput has been reached."),
            "pair_rate": cloud_error(400, 131056, "(Business Account, Consumer Account) pair rate limit hit",
                                     "Too many messages sent from the sender phone number to the same recipient "
                                     "phone number in a short period of time."),
            "re_engagement": cloud_error(400, 131047, "Re-engagement message",
                                         "Message failed to send because more than 24 hours have passed since "
                                         "the customer last replied to this number."),
            "rate_limited": Response(429, {"error": {"message": "Too many requests", "code": 4}},
                                     {"Retry-After": "1"}),
            "unavailable": Response(503, {"error": {"message": "Service temporarily unavailable", "code": 2,
                                                    "is_transient": True}}),
        }

    def next_wamid(self) -> str:
        """The wamid the next accepted send will get."""
        return f"wamid.EMU{self._next}"

    def _take_wamid(self) -> str:
        with self._lock:
            wamid = f"wamid.EMU{self._next}"
            self._next = next(self._counter)
        return wamid

    def credential(self, request: Request) -> str | None:
        auth = request.header("Authorization") or ""
        return auth[len("Bearer "):] if auth.startswith("Bearer ") else None

    def describe_request(self, request: Request, exchange: dict[str, Any]) -> None:
        try:
            exchange["to"] = str(request.json().get("to"))
        except (ValueError, AttributeError):
            pass

    def handle(self, request: Request, record: dict[str, Any]) -> Response:
        match = self._path.match(request.path)
        if match and match.lastindex:
            record["phone_number_id"] = match.group(1)
        if request.method != "POST":
            return cloud_error(405, 100, "Unsupported get request")
        if self.tokens is not None and self.credential(request) not in self.tokens:
            return cloud_error(401, 190, "Invalid OAuth access token - Cannot parse access token")
        try:
            body = request.json()
        except ValueError:
            return cloud_error(400, 100, "Invalid parameter", "the body is not JSON")
        kind = body.get("type", "text")
        if body.get("messaging_product") != "whatsapp" or not body.get("to"):
            return cloud_error(400, 100, "Invalid parameter", "messaging_product and to are required")
        if kind not in MESSAGE_TYPES or not isinstance(body.get(kind), dict):
            return cloud_error(400, 100, "Invalid parameter", f"the {kind} object is missing")
        if kind == "text" and not body["text"].get("body"):
            return cloud_error(400, 100, "Invalid parameter", "text.body is required")
        if self._over_throughput():
            record.update(to=str(body["to"]), throughput_exceeded=True)
            return self.presets()["throughput"]
        wamid = self._take_wamid()
        record.update(to=str(body["to"]), type=kind, message=body.get(kind), wamid=wamid,
                      biz_opaque_callback_data=body.get("biz_opaque_callback_data"))
        if kind == "text":
            record["text"] = body["text"]["body"]
        return Response(200, {"messaging_product": "whatsapp",
                              "contacts": [{"input": body["to"], "wa_id": body["to"]}],
                              "messages": [{"id": wamid}]})


class Dialog360Provider(WhatsAppProvider):
    """360dialog's Cloud API hosting: POST /messages with D360-API-KEY. `keys`: accepted keys."""

    name = "360dialog"
    mount = "/360dialog"
    _path = re.compile(r"^/messages$")

    def credential(self, request: Request) -> str | None:
        return request.header("D360-API-KEY")
