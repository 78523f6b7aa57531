"""Twilio Messages API emulator (twilio.com/docs/messaging/api/message-resource): POST
/2010-04-01/Accounts/<AccountSid>/Messages.json, form-encoded, HTTP Basic auth with the Account SID
and Auth Token, mounted at /twilio (a tenant's api_base is <emulator>/twilio).

Answers as Twilio does: 201 with the Message resource ({"sid": "SM...", "status": "queued", "to",
"from", "body", "num_media", ...}) or an error {"code", "message", "more_info", "status"}. A wrong
account or token gets 401 (code 20003); a missing To, or neither From nor MessagingServiceSid, 400
(code 21604 / 21603); neither Body, MediaUrl nor ContentSid 400 (21619). Presets: "unsubscribed"
(400, code 21610), "too_many_requests" (429, code 20429, Retry-After: 1), "unavailable" (503).

sign(auth_token, url, params) computes X-Twilio-Signature for the webhooks a test posts, the way
Twilio's helper libraries do (HMAC-SHA1 over the URL and the sorted parameters, base64).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import re
import urllib.parse
from typing import Any

from provider_emulator import Provider, Request, Response


def twilio_error(status: int, code: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return Response(status, {"code": code, "message": message, "status": status,
                             "more_info": f"https://www.twilio.com/docs/errors/{code}"}, headers or {})


def sign(auth_token: str, url: str, params: list[tuple[str, str]]) -> str:
    data = url + "".join(k + v for k, v in sorted(params))
    return base64.b64encode(hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()).decode()


class TwilioProvider(Provider):
    name = "twilio"
    mount = "/twilio"
    _path = re.compile(r"^/2010-04-01/Accounts/([^/]+)/Messages\.json$")

    def __init__(self, account_sid: str, auth_token: str):
        super().__init__()
        self.account_sid, self.auth_token = account_sid, auth_token
        self._sids = itertools.count(1)

    def matches(self, path: str) -> bool:
        return self._path.match(path) is not None

    def presets(self) -> dict[str, Response]:
        return {
            "unsubscribed": twilio_error(400, 21610, "Attempt to send to unsubscribed recipient"),
            "too_many_requests": twilio_error(429, 20429, "Too Many Requests", {"Retry-After": "1"}),
            "unavailable": twilio_error(503, 20500, "Service Unavailable"),
        }

    @staticmethod
    def _form(request: Request) -> dict[str, list[str]]:
        return urllib.parse.parse_qs(request.body.decode("utf-8"), keep_blank_values=True)

    def describe_request(self, request: Request, exchange: dict[str, Any]) -> None:
        exchange["to"] = (self._form(request).get("To") or [""])[0]

    def handle(self, request: Request, record: dict[str, Any]) -> Response:
        match = self._path.match(request.path)
        assert match is not None
        expected = "Basic " + base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        if match.group(1) != self.account_sid or request.header("Authorization") != expected:
            return twilio_error(401, 20003, "Authenticate")
        form = {k: v[0] for k, v in self._form(request).items()}
        record.update(to=form.get("To", ""), form=form)
        if not form.get("To"):
            return twilio_error(400, 21604, "A 'To' phone number is required.")
        if not form.get("From") and not form.get("MessagingServiceSid"):
            return twilio_error(400, 21603, "A 'From' phone number is required.")
        if not (form.get("Body") or form.get("MediaUrl") or form.get("ContentSid")):
            return twilio_error(400, 21619, "A text message body or media URL must be specified.")
        sid = f"SM{next(self._sids):032d}"
        record["sid"] = sid
        return Response(201, {"sid": sid, "status": "queued", "to": form["To"], "from": form.get("From"),
                              "body": form.get("Body", ""), "num_media": "1" if form.get("MediaUrl") else "0",
                              "account_sid": self.account_sid, "api_version": "2010-04-01"})
