#!/usr/bin/env python3
"""Local emulator of the provider APIs Switchboard calls, for integration tests and demos.

One HTTP server on 127.0.0.1 hosts any number of *providers*. A provider owns a path space
(its mount prefix plus whatever paths it recognises), answers the way the real API does, and
records every request it sees. Every provider gets the same fault injection: answer the next N
requests (or all of them, until cleared) with a given status and body, or hang for T seconds so
the client's timeout fires.

Providers so far:
  graph   Meta Graph API Send API: POST /v<version>/me/messages and /v<version>/<page-id>/messages
          (Messenger and Instagram Messaging), and the Conversations API over the messages it
          accepted: GET /v<version>/me/conversations?platform=&user_id=, /v<version>/<conversation-id>
          ?fields=messages and /v<version>/<message-id>?fields=id,created_time,from,to,message.
          Mounted at the root so that a plugin's graph_api_base is http://127.0.0.1:<port>/v21.0.

Adding a provider (Telegram, QPay, OpenAI, ...): subclass Provider, set `name` and `mount`
(e.g. "/telegram"), implement `matches(path)` and `handle(request)`, optionally `presets()`,
and pass an instance to ProviderEmulator(providers=[...]). Fault injection, request recording and
the control API come from the base class.

Control API (JSON, also usable with curl while the emulator runs standalone):
  GET    /_emulator/providers                  names and mounts
  POST   /_emulator/faults                     {"provider": "graph", "status": 503, "body": {...},
                                                "count": 2 | null (forever), "hang_seconds": 3,
                                                "preset": "transient", "path": "regex",
                                                "method": "GET"} -> {"id": n}
  GET    /_emulator/faults[?provider=graph]    active faults
  DELETE /_emulator/faults[?provider=graph]    clear faults (POST /_emulator/faults/clear does too)
  GET    /_emulator/requests[?provider=graph&outcome=accepted]   recorded requests
  POST   /_emulator/reset[?provider=graph]     clear faults and recorded requests

Standalone: python3 tests/emulator/provider_emulator.py --port 9999 [--page-access-token T ...] [--account T=ID ...]

Python 3 standard library only.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import re
import secrets
import signal
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterable

__all__ = [
    "Request",
    "Response",
    "Fault",
    "Provider",
    "GraphProvider",
    "ProviderEmulator",
    "graph_error",
]

# Requests whose handler hangs are released at the latest after this many seconds, so a test that
# forgets to clear a hang cannot keep a thread alive forever.
_MAX_HANG_SECONDS = 300.0


@dataclass
class Request:
    """One HTTP request as the emulator received it (body is the raw bytes)."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))

    def query_value(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


@dataclass
class Response:
    """What a provider answers. A dict or list body is sent as JSON."""

    status: int
    body: Any = b""
    headers: dict[str, str] = field(default_factory=dict)

    def encoded(self) -> tuple[bytes, dict[str, str]]:
        headers = dict(self.headers)
        if isinstance(self.body, (dict, list)):
            data = json.dumps(self.body).encode("utf-8")
            headers.setdefault("Content-Type", "application/json; charset=UTF-8")
        elif isinstance(self.body, str):
            data = self.body.encode("utf-8")
            headers.setdefault("Content-Type", "text/plain; charset=UTF-8")
        else:
            data = bytes(self.body)
        return data, headers


@dataclass
class Fault:
    """An injected failure. count=None means every matching request until cleared.

    With hang_seconds set, the request is held that long; then, if status is set, that status and
    body are sent, otherwise the connection is closed without an answer (what a client sees when
    a provider stalls past its timeout). With process=True the provider first handles the request
    for real (it is recorded as accepted) and only its answer is lost: the case where a client
    cannot know whether its request took effect.
    """

    id: int
    status: int | None = None
    body: Any = b""
    headers: dict[str, str] = field(default_factory=dict)
    count: int | None = 1
    hang_seconds: float | None = None
    path: str | None = None  # regex searched in the request path; None matches every request
    process: bool = False
    hits: int = 0
    method: str | None = None  # e.g. "GET" (the Conversations API) or "POST" (sends); None = any

    def matches(self, request: Request) -> bool:
        if self.method is not None and request.method.upper() != self.method.upper():
            return False
        return self.path is None or re.search(self.path, request.path) is not None

    def describe(self) -> dict[str, Any]:
        body = self.body
        if isinstance(body, bytes):
            body = body.decode("utf-8", "replace")
        return {
            "id": self.id,
            "status": self.status,
            "body": body,
            "headers": self.headers,
            "count": self.count,
            "hang_seconds": self.hang_seconds,
            "path": self.path,
            "process": self.process,
            "method": self.method,
            "hits": self.hits,
        }


_fault_ids = itertools.count(1)


class Provider:
    """Base class: fault queue, request log and waiting helpers shared by every provider.

    Subclasses implement matches() and handle(); handle() returns a Response and may return
    extra fields to record through the `record` dict it is given.
    """

    name = "provider"
    mount = ""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._faults: list[Fault] = []
        self._exchanges: list[dict[str, Any]] = []
        self._release = threading.Event()  # set on reset/stop to end every hang at once

    # ---- to implement -------------------------------------------------------------------
    def matches(self, path: str) -> bool:
        """True when `path` (already stripped of the mount prefix) belongs to this provider."""
        raise NotImplementedError

    def handle(self, request: Request, record: dict[str, Any]) -> Response:
        """Answers a request that passed fault injection. Put what tests should see in `record`."""
        raise NotImplementedError

    def presets(self) -> dict[str, Response]:
        """Named failure answers usable as faults ({"preset": name} over HTTP)."""
        return {}

    # ---- fault injection ----------------------------------------------------------------
    def fail(
        self,
        status: int | None = None,
        body: Any = b"",
        *,
        count: int | None = 1,
        headers: dict[str, str] | None = None,
        hang_seconds: float | None = None,
        path: str | None = None,
        preset: str | None = None,
        process: bool = False,
        method: str | None = None,
    ) -> Fault:
        """Queues a fault for the next `count` matching requests (None = until cleared). A request
        matches when its path matches the `path` regex and its method is `method` (each when set)."""
        if preset is not None:
            presets = self.presets()
            if preset not in presets:
                raise ValueError(f"unknown preset {preset!r} for {self.name}; known: {sorted(presets)}")
            answer = presets[preset]
            status, body, headers = answer.status, answer.body, {**answer.headers, **(headers or {})}
        if status is None and hang_seconds is None:
            raise ValueError("a fault needs a status, a preset or hang_seconds")
        if count is not None and count < 1:
            raise ValueError("count must be at least 1, or None for a fault that lasts until cleared")
        fault = Fault(
            id=next(_fault_ids),
            status=status,
            body=body,
            headers=dict(headers or {}),
            count=count,
            hang_seconds=hang_seconds,
            path=path,
            process=process,
            method=method,
        )
        with self._lock:
            self._release.clear()
            self._faults.append(fault)
        return fault

    def hang(self, seconds: float, *, count: int | None = 1, path: str | None = None) -> Fault:
        """Holds the next `count` requests for `seconds`, then drops the connection unanswered."""
        return self.fail(hang_seconds=seconds, count=count, path=path)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()
            self._release.set()

    def faults(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.describe() for f in self._faults]

    def _take_fault(self, request: Request) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(request):
                    fault.hits += 1
                    if fault.count is not None:
                        fault.count -= 1
                        if fault.count == 0:
                            self._faults.remove(fault)
                    return fault
        return None

    # ---- recording ----------------------------------------------------------------------
    def reset(self) -> None:
        """Clears faults and recorded requests."""
        with self._lock:
            self._faults.clear()
            self._exchanges.clear()
            self._release.set()
            self._lock.notify_all()

    def requests(self, outcome: str | None = None, **fields: Any) -> list[dict[str, Any]]:
        """Recorded requests, oldest first. outcome: "accepted", "rejected" (the provider refused
        it as invalid), "fault" (an injected answer), "hang" (held, then dropped or answered),
        "read" (a successful read-only request, e.g. a Graph Conversations API lookup).
        Keyword arguments filter on recorded fields, e.g. recipient="123"."""
        with self._lock:
            found = [dict(e) for e in self._exchanges]
        if outcome is not None:
            found = [e for e in found if e["outcome"] == outcome]
        for key, value in fields.items():
            found = [e for e in found if e.get(key) == value]
        return found

    def accepted(self, **fields: Any) -> list[dict[str, Any]]:
        """Requests the provider accepted (for Graph: messages it "sent")."""
        return self.requests("accepted", **fields)

    def wait_for(self, predicate: Callable[["Provider"], bool], timeout: float = 10.0) -> bool:
        """Blocks until predicate(self) is true or `timeout` seconds pass; returns the last result.
        Woken by every recorded request, so no polling interval is involved."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                # The predicate reads through the public helpers, which take the (re-entrant
                # for Condition's default RLock) lock again.
                if predicate(self):
                    return True
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._lock.wait(remaining)

    def _record(self, exchange: dict[str, Any]) -> None:
        with self._lock:
            exchange["seq"] = len(self._exchanges) + 1
            self._exchanges.append(exchange)
            self._lock.notify_all()

    # ---- dispatch (called by the server) ------------------------------------------------
    def serve(self, request: Request) -> Response | None:
        """Runs fault injection then handle(). Returns None to drop the connection."""
        exchange: dict[str, Any] = {
            "provider": self.name,
            "time": time.time(),
            "method": request.method,
            "path": request.path,
            "query": {k: v[0] if len(v) == 1 else v for k, v in request.query.items()},
            "headers": dict(request.headers),
            "body": request.body.decode("utf-8", "replace"),
        }
        fault = self._take_fault(request)
        if fault is not None:
            self.describe_request(request, exchange)
            exchange["fault_id"] = fault.id
            if fault.process:
                record: dict[str, Any] = {}
                response = self.handle(request, record)
                exchange.update(record)
                exchange["status"] = response.status
                exchange["outcome"] = "accepted" if 200 <= response.status < 300 else "rejected"
                exchange["answer_lost"] = True
                self._record(exchange)
                self._release.wait(min(fault.hang_seconds or 0, _MAX_HANG_SECONDS))
                return None
            if fault.hang_seconds is not None:
                exchange["outcome"] = "hang"
                self._record(exchange)
                self._release.wait(min(fault.hang_seconds, _MAX_HANG_SECONDS))
                if fault.status is None:
                    return None
                return Response(fault.status, fault.body, dict(fault.headers))
            exchange["outcome"] = "fault"
            exchange["status"] = fault.status
            self._record(exchange)
            return Response(fault.status, fault.body, dict(fault.headers))
        record: dict[str, Any] = {}
        try:
            response = self.handle(request, record)
        except Exception as exc:  # a provider bug must show up as a 500, not kill the thread
            response = Response(500, {"error": {"message": f"emulator error: {exc!r}"}})
            record["outcome"] = "rejected"
        exchange.update(record)
        exchange.setdefault("outcome", "accepted" if 200 <= response.status < 300 else "rejected")
        exchange["status"] = response.status
        self._record(exchange)
        return response

    def describe_request(self, request: Request, exchange: dict[str, Any]) -> None:
        """Adds provider-specific fields (e.g. recipient) to the record of a faulted request, so
        tests can count attempts per recipient even when they were refused."""


def graph_error(
    message: str,
    code: int,
    *,
    type: str = "OAuthException",
    error_subcode: int | None = None,
    is_transient: bool | None = None,
    fbtrace_id: str | None = None,
) -> dict[str, Any]:
    """A Graph API error body as documented in "Graph API > Guides > Handling Errors"
    (developers.facebook.com/docs/graph-api/guides/error-handling):
    {"error": {"message", "type", "code", "error_subcode"?, "is_transient"?, "fbtrace_id"}}."""
    error: dict[str, Any] = {"message": message, "type": type, "code": code}
    if error_subcode is not None:
        error["error_subcode"] = error_subcode
    if is_transient is not None:
        error["is_transient"] = is_transient
    error["fbtrace_id"] = fbtrace_id or "A" + secrets.token_urlsafe(8)
    return {"error": error}


class GraphProvider(Provider):
    """Meta Graph API: the Send API (Messenger Platform "Send API" reference:
    developers.facebook.com/docs/messenger-platform/reference/send-api; Instagram Messaging uses
    the same endpoint with an Instagram-scoped id as recipient) and the Conversations API
    (developers.facebook.com/docs/messenger-platform/conversations) over the messages it accepted.

    access_tokens: accepted page access tokens (None accepts any non-empty token). The token may
    come as "Authorization: Bearer <token>", as the access_token query parameter, or as an
    access_token form field. page_ids: ids accepted in /<page-id>/messages (None accepts any).
    accounts: token -> the page / Instagram account id that token's "/me" is (the `from` of the
    messages sent with it); a token not listed gets a made-up id ("page-" + a digest of it).
    Attribute, so a test may set it after construction.
    """

    name = "graph"
    mount = ""

    _path = re.compile(r"^/v(\d+)\.(\d+)/([^/]+)/messages/?$")
    _conversations_path = re.compile(r"^/v(\d+)\.(\d+)/([^/]+)/conversations/?$")
    _node_path = re.compile(r"^/v(\d+)\.(\d+)/([^/]+)/?$")
    _comments_path = re.compile(r"^/v(\d+)\.(\d+)/([^/]+)/comments/?$")
    _platforms = {"messenger", "instagram"}
    detail_limit = 20  # Conversations API: details only for the 20 most recent messages
    page_size = 25     # messages per page of /<conversation-id>?fields=messages
    _messaging_types = {"RESPONSE", "UPDATE", "MESSAGE_TAG"}
    _sender_actions = {"typing_on", "typing_off", "mark_seen", "react", "unreact"}
    max_text_length = 2000  # Send API: message.text "must be UTF-8 and has a 2000 character limit"

    def __init__(self, access_tokens: Iterable[str] | None = None, page_ids: Iterable[str] | None = None,
                 accounts: dict[str, str] | None = None):
        super().__init__()
        self.access_tokens = set(access_tokens) if access_tokens is not None else None
        self.page_ids = set(page_ids) if page_ids is not None else None
        self.accounts = dict(accounts or {})
        self._mid_counter = itertools.count(1)
        self._privately_replied: set[str] = set()  # Private Replies: one per comment

    def matches(self, path: str) -> bool:
        return path.startswith("/v") and re.match(r"^/v\d+\.\d+/", path) is not None

    def presets(self) -> dict[str, Response]:
        # Codes from the Messenger Platform error-code reference
        # (developers.facebook.com/docs/messenger-platform/error-codes).
        return {
            "transient": Response(500, graph_error(
                "An unexpected error has occurred. Please retry your request later.", 2,
                is_transient=True)),
            "temporary_send_failure": Response(400, graph_error(
                "Temporary send message failure. Please try again later.", 1200, is_transient=True)),
            "rate_limited": Response(429, graph_error(
                "(#4) Application request limit reached", 4, is_transient=True)),
            "service_unavailable": Response(503, graph_error(
                "Service temporarily unavailable", 2, is_transient=True)),
            "invalid_parameter": Response(400, graph_error(
                "(#100) Invalid parameter", 100, is_transient=False)),
            "invalid_token": Response(401, graph_error(
                "Invalid OAuth access token.", 190, is_transient=False),
                {"WWW-Authenticate": 'OAuth "Facebook Platform" "invalid_token" "Invalid OAuth access token."'}),
            "outside_window": Response(400, graph_error(
                "(#10) This message is sent outside of allowed window.", 10, type="OAuthException",
                error_subcode=2018278, is_transient=False)),
            "user_unavailable": Response(400, graph_error(
                "(#551) This person isn't available right now.", 551, error_subcode=1545041,
                is_transient=False)),
        }

    # Accepts application/json and form-encoded bodies (Graph takes both; JSON-valued form fields
    # such as recipient={"id":"..."} are decoded as the Graph API does).
    @staticmethod
    def _parse_body(request: Request) -> dict[str, Any]:
        if not request.body:
            return {}
        content_type = (request.header("content-type") or "").split(";")[0].strip().lower()
        text = request.body.decode("utf-8")
        if content_type == "application/x-www-form-urlencoded":
            fields: dict[str, Any] = {}
            for key, value in urllib.parse.parse_qsl(text, keep_blank_values=True):
                try:
                    fields[key] = json.loads(value) if value[:1] in "{[" else value
                except ValueError:
                    fields[key] = value
            return fields
        parsed = json.loads(text)
        if not isinstance(parsed, dict):
            raise ValueError("body is not a JSON object")
        return parsed

    @staticmethod
    def _token(request: Request, body: dict[str, Any]) -> str | None:
        auth = request.header("authorization")
        if auth:
            scheme, _, value = auth.partition(" ")
            if scheme.lower() in ("bearer", "oauth") and value.strip():
                return value.strip()
            return None
        token = request.query_value("access_token") or body.get("access_token")
        return token if isinstance(token, str) and token else None

    def describe_request(self, request: Request, exchange: dict[str, Any]) -> None:
        try:
            body = self._parse_body(request)
        except ValueError:
            return
        self._describe(request, body, exchange)

    def _describe(self, request: Request, body: dict[str, Any], record: dict[str, Any]) -> None:
        recipient = body.get("recipient")
        if isinstance(recipient, dict):
            record["recipient"] = next(
                (str(recipient[k]) for k in ("id", "user_ref", "post_id", "comment_id") if k in recipient), None)
        message = body.get("message")
        if isinstance(message, dict):
            record["text"] = message.get("text")
            record["metadata"] = message.get("metadata")
        record["messaging_type"] = body.get("messaging_type")
        record["token"] = self._token(request, body)
        match = self._path.match(request.path)
        if match:
            record["api_version"] = f"v{match.group(1)}.{match.group(2)}"
            record["page"] = match.group(3)
        if request.method == "GET" and not match:
            # Conversations API lookups: never a "recipient", so they do not count as sends.
            conversations = self._conversations_path.match(request.path)
            record["endpoint"] = "conversations" if conversations else "node"
            record["user_id"] = request.query_value("user_id")
            record["platform"] = request.query_value("platform")

    def handle(self, request: Request, record: dict[str, Any]) -> Response:
        if request.method == "GET" and not self._path.match(request.path):
            return self._handle_read(request, record)
        if request.method == "POST" and (comments := self._comments_path.match(request.path)):
            return self._reply_publicly(request, comments.group(3), record)
        match = self._path.match(request.path)
        if not match:
            return Response(400, graph_error(
                f"Unknown path components: {request.path}", 2500, type="OAuthException"))
        if request.method != "POST":
            return Response(400, graph_error(
                "(#100) Unsupported get request. Please read the Graph API documentation", 100,
                type="GraphMethodException"))
        try:
            body = self._parse_body(request)
        except (ValueError, UnicodeDecodeError):
            return Response(400, graph_error("(#100) The request body is not valid JSON", 100))
        self._describe(request, body, record)

        token = record.get("token")
        if (refused := self._refuse_token(token)) is not None:
            return refused

        page = match.group(3)
        if page != "me" and self.page_ids is not None and page not in self.page_ids:
            return Response(400, graph_error(
                f"Unsupported post request. Object with ID '{page}' does not exist, cannot be loaded "
                "due to missing permissions, or does not support this operation.", 100,
                type="GraphMethodException", error_subcode=33))

        recipient = body.get("recipient")
        if not isinstance(recipient, dict) or not record.get("recipient"):
            return Response(400, graph_error("(#100) The parameter recipient is required", 100))

        sender_action = body.get("sender_action")
        message = body.get("message")
        if sender_action is not None and message is None:
            if sender_action not in self._sender_actions:
                return Response(400, graph_error(f"(#100) Param sender_action must be one of {sorted(self._sender_actions)}", 100))
            record["sender_action"] = sender_action
            return Response(200, {"recipient_id": record["recipient"]})

        messaging_type = body.get("messaging_type")
        if messaging_type is None:
            return Response(400, graph_error("(#100) The parameter messaging_type is required", 100))
        if messaging_type not in self._messaging_types:
            return Response(400, graph_error(
                f"(#100) Param messaging_type must be one of {{{', '.join(sorted(self._messaging_types))}}}"
                f" - got \"{messaging_type}\"", 100))
        if messaging_type == "MESSAGE_TAG" and not body.get("tag"):
            return Response(400, graph_error("(#100) The parameter tag is required when messaging_type is MESSAGE_TAG", 100))

        if not isinstance(message, dict):
            return Response(400, graph_error("(#100) The parameter message is required", 100))
        text = message.get("text")
        attachment = message.get("attachment")
        if text is None and attachment is None:
            return Response(400, graph_error("(#100) Must send either message or attachment", 100))
        if text is not None:
            if not isinstance(text, str) or not text.strip():
                return Response(400, graph_error("(#100) Param message[text] must be a non-empty UTF-8 encoded string", 100))
            if len(text) > self.max_text_length:
                return Response(400, graph_error(
                    f"(#100) Length of param message[text] must be less than or equal to {self.max_text_length}", 100))
        metadata = message.get("metadata")
        if metadata is not None and (not isinstance(metadata, str) or len(metadata) > 1000):
            return Response(400, graph_error("(#100) Param message[metadata] must be a string of at most 1000 characters", 100))

        if "comment_id" in recipient:
            # Messenger Platform "Private Replies": one message per comment.
            with self._lock:
                if recipient["comment_id"] in self._privately_replied:
                    return Response(400, graph_error("(#10900) Activity already replied to", 10900))
                self._privately_replied.add(recipient["comment_id"])
            record["private_reply_to"] = recipient["comment_id"]
        message_id = f"m_{next(self._mid_counter)}_{secrets.token_urlsafe(18)}"
        record["message_id"] = message_id
        return Response(200, {"recipient_id": record["recipient"], "message_id": message_id})

    def _reply_publicly(self, request: Request, comment_id: str, record: dict[str, Any]) -> Response:
        """POST /<comment-id>/comments {"message"}: a public reply under a comment (Graph API
        "Comments" edge); answers {"id": the new comment's id}."""
        try:
            body = self._parse_body(request)
        except (ValueError, UnicodeDecodeError):
            return Response(400, graph_error("(#100) The request body is not valid JSON", 100))
        record.update(endpoint="comments", comment_id=comment_id, text=body.get("message"),
                      token=self._token(request, body))
        if (refused := self._refuse_token(record["token"])) is not None:
            return refused
        if not isinstance(body.get("message"), str) or not body["message"].strip():
            return Response(400, graph_error("(#100) The parameter message is required", 100))
        return Response(200, {"id": f"{comment_id}_{next(self._mid_counter)}"})


    # ---- Conversations API (read-only, over the messages accepted above) --------------------
    def account_for(self, token: str) -> str:
        """The page / Instagram account id a token's "/me" is (see `accounts`)."""
        return self.accounts.get(token) or "page-" + hashlib.sha256(token.encode()).hexdigest()[:12]

    @staticmethod
    def conversation_id(account: str, user_id: str) -> str:
        return "t_" + hashlib.sha256(f"{account}:{user_id}".encode()).hexdigest()[:20]

    @staticmethod
    def graph_time(seconds: float) -> str:
        """A Graph API datetime (default date_format): ISO 8601 in UTC, "2024-05-01T10:00:00+0000"."""
        return time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime(seconds))

    def sent_messages(self, account: str) -> list[dict[str, Any]]:
        """Messages this account sent through the Send API (accepted, with a message id), oldest first."""
        with self._lock:
            exchanges = [dict(e) for e in self._exchanges]
        return [e for e in exchanges if e.get("outcome") == "accepted" and e.get("message_id")
                and e.get("token") is not None and self.account_for(e["token"]) == account
                and e.get("page") in ("me", account)]

    def _conversation_messages(self, account: str, conversation: str) -> list[dict[str, Any]]:
        """The conversation's messages, newest first."""
        found = [e for e in self.sent_messages(account)
                 if self.conversation_id(account, str(e.get("recipient"))) == conversation]
        return sorted(found, key=lambda e: (e["time"], e["seq"]), reverse=True)

    @staticmethod
    def _no_object(node: str) -> Response:
        return Response(400, graph_error(
            f"Unsupported get request. Object with ID '{node}' does not exist, cannot be loaded due to missing "
            "permissions, or does not support this operation.", 100, type="GraphMethodException", error_subcode=33))

    def _refuse_token(self, token: str | None) -> Response | None:
        """Graph's 401 for a missing or unknown access token, or None when the token is accepted."""
        if token is None:
            return Response(401, graph_error(
                "An active access token must be used to query information about the current user.",
                2500), {"WWW-Authenticate": 'OAuth "Facebook Platform" "invalid_request"'})
        if self.access_tokens is not None and token not in self.access_tokens:
            return Response(401, graph_error(
                "Invalid OAuth access token - Cannot parse access token", 190),
                {"WWW-Authenticate": 'OAuth "Facebook Platform" "invalid_token" "Invalid OAuth access token"'})
        return None

    def _handle_read(self, request: Request, record: dict[str, Any]) -> Response:
        self._describe(request, {}, record)
        token = record.get("token")
        if (refused := self._refuse_token(token)) is not None:
            return refused
        account = self.account_for(token)
        conversations = self._conversations_path.match(request.path)
        node = self._node_path.match(request.path)
        if conversations:
            record["api_version"] = f"v{conversations.group(1)}.{conversations.group(2)}"
            response = self._list_conversations(request, account, conversations.group(3))
        elif node:
            record["api_version"] = f"v{node.group(1)}.{node.group(2)}"
            response = self._read_node(request, account, urllib.parse.unquote(node.group(3)))
        else:
            response = Response(400, graph_error(f"Unknown path components: {request.path}", 2500))
        if 200 <= response.status < 300:
            record["outcome"] = "read"
        return response

    def _list_conversations(self, request: Request, account: str, owner: str) -> Response:
        """GET /<page-id>/conversations?platform=messenger|instagram[&user_id=<PSID|IGSID>]
        -> {"data": [{"id", "updated_time"}]} (newest first; empty when there is none)."""
        if owner not in ("me", account):
            return self._no_object(owner)
        platform = request.query_value("platform")
        if platform not in self._platforms:
            return Response(400, graph_error(
                "(#100) param platform must be one of {MESSENGER, INSTAGRAM}" if platform else
                "(#100) The parameter platform is required", 100))
        user_id = request.query_value("user_id")
        latest: dict[str, float] = {}
        for e in self.sent_messages(account):
            recipient = str(e.get("recipient"))
            if user_id is None or recipient == user_id:
                conversation = self.conversation_id(account, recipient)
                latest[conversation] = max(latest.get(conversation, 0.0), e["time"])
        data = [{"id": c, "updated_time": self.graph_time(t)}
                for c, t in sorted(latest.items(), key=lambda item: item[1], reverse=True)]
        return Response(200, {"data": data})

    def _read_node(self, request: Request, account: str, node: str) -> Response:
        """GET /<conversation-id>?fields=messages or /<message-id>?fields=id,created_time,from,to,message."""
        fields = [f.strip() for f in (request.query_value("fields") or "").split(",") if f.strip()]
        if node.startswith("t_"):
            messages = self._conversation_messages(account, node)
            if not messages:
                return self._no_object(node)
            answer: dict[str, Any] = {}
            if "messages" in fields:
                page = messages[:self.page_size]
                listing: dict[str, Any] = {"data": [{"id": e["message_id"], "created_time": self.graph_time(e["time"])}
                                                    for e in page]}
                if len(messages) > self.page_size:
                    listing["paging"] = {"cursors": {"after": page[-1]["message_id"]},
                                         "next": f"{request.path}?fields=messages&after={page[-1]['message_id']}"}
                answer["messages"] = listing
            if "updated_time" in fields:
                answer["updated_time"] = self.graph_time(messages[0]["time"])
            answer["id"] = node
            return Response(200, answer)
        for e in self.sent_messages(account):
            if e["message_id"] != node:
                continue
            recent = self._conversation_messages(account, self.conversation_id(account, str(e["recipient"])))
            if node not in [m["message_id"] for m in recent[:self.detail_limit]]:
                return Response(400, graph_error(
                    "(#100) This message has been deleted: only the 20 most recent messages of a conversation "
                    "can be read", 100, type="GraphMethodException"))
            wanted = fields or ["id", "created_time"]  # the documented default fields
            full = {"id": node, "created_time": self.graph_time(e["time"]), "from": {"id": account},
                    "to": {"data": [{"id": str(e["recipient"])}]}, "message": e.get("text") or ""}
            return Response(200, {k: full[k] for k in full if k in wanted or k == "id"})
        return self._no_object(node)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


class ProviderEmulator:
    """The HTTP server plus its providers. Use as a context manager or call start()/stop().

    emulator = ProviderEmulator(providers=[GraphProvider(access_tokens={"tok"})]).start()
    emulator.graph.fail(503, count=None)   # providers are attributes by name
    base = emulator.url + "/v21.0"          # graph_api_base for a plugin
    """

    def __init__(self, providers: Iterable[Provider] | None = None, host: str = "127.0.0.1", port: int = 0):
        self.providers: dict[str, Provider] = {}
        for provider in providers if providers is not None else [GraphProvider()]:
            if provider.name in self.providers:
                raise ValueError(f"two providers named {provider.name!r}")
            self.providers[provider.name] = provider
        self._host = host
        self._port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def add(self, provider: Provider) -> Provider:
        """Adds a provider (also while serving). @returns it."""
        if provider.name in self.providers:
            raise ValueError(f"two providers named {provider.name!r}")
        self.providers[provider.name] = provider
        return provider

    def __getattr__(self, name: str) -> Provider:
        providers = self.__dict__.get("providers", {})
        if name in providers:
            return providers[name]
        raise AttributeError(name)

    @property
    def port(self) -> int:
        assert self._server is not None, "emulator not started"
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self.port}"

    def start(self) -> "ProviderEmulator":
        handler = type("_BoundHandler", (_Handler,), {"emulator": self})
        self._server = _Server((self._host, self._port), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="provider-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        for provider in self.providers.values():
            provider.clear_faults()  # releases hung handlers
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None

    def reset(self) -> None:
        for provider in self.providers.values():
            provider.reset()

    def __enter__(self) -> "ProviderEmulator":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def route(self, path: str) -> Provider | None:
        # Longest mount first, so "/telegram" wins over a root-mounted provider.
        for provider in sorted(self.providers.values(), key=lambda p: len(p.mount), reverse=True):
            if provider.mount and not (path == provider.mount or path.startswith(provider.mount + "/")):
                continue
            if provider.matches(path[len(provider.mount):] or "/"):
                return provider
        return None

    # ---- control API --------------------------------------------------------------------
    def _selected(self, query: dict[str, list[str]]) -> list[Provider]:
        names = query.get("provider")
        if not names:
            return list(self.providers.values())
        unknown = [n for n in names if n not in self.providers]
        if unknown:
            raise KeyError(f"unknown provider {unknown[0]!r}; known: {sorted(self.providers)}")
        return [self.providers[n] for n in names]

    def control(self, request: Request) -> Response:
        path = request.path[len("/_emulator"):].rstrip("/") or "/"
        try:
            if path == "/providers" and request.method == "GET":
                return Response(200, {"providers": [
                    {"name": p.name, "mount": p.mount, "presets": sorted(p.presets())} for p in self.providers.values()]})
            if path == "/faults" and request.method == "GET":
                return Response(200, {"faults": [
                    dict(f, provider=p.name) for p in self._selected(request.query) for f in p.faults()]})
            if (path == "/faults" and request.method == "DELETE") or (path == "/faults/clear" and request.method == "POST"):
                for provider in self._selected(request.query):
                    provider.clear_faults()
                return Response(200, {"cleared": True})
            if path == "/faults" and request.method == "POST":
                spec = request.json() if request.body else {}
                if not isinstance(spec, dict):
                    raise ValueError("fault must be a JSON object")
                name = spec.pop("provider", None)
                if name is None:
                    if len(self.providers) != 1:
                        raise ValueError(f"say which provider: one of {sorted(self.providers)}")
                    name = next(iter(self.providers))
                if name not in self.providers:
                    raise KeyError(f"unknown provider {name!r}; known: {sorted(self.providers)}")
                allowed = {"status", "body", "count", "headers", "hang_seconds", "path", "preset", "process",
                           "method"}
                extra = set(spec) - allowed
                if extra:
                    raise ValueError(f"unknown fault field(s) {sorted(extra)}; allowed: {sorted(allowed)}")
                fault = self.providers[name].fail(**spec)
                return Response(200, dict(fault.describe(), provider=name))
            if path == "/requests" and request.method == "GET":
                outcome = request.query_value("outcome")
                return Response(200, {"requests": [
                    r for p in self._selected(request.query) for r in p.requests(outcome)]})
            if path == "/reset" and request.method == "POST":
                for provider in self._selected(request.query):
                    provider.reset()
                return Response(200, {"reset": True})
        except KeyError as exc:
            return Response(404, {"error": str(exc.args[0])})
        except (ValueError, TypeError) as exc:
            return Response(400, {"error": str(exc)})
        return Response(404, {"error": f"no control endpoint {request.method} {request.path}"})


class _Handler(BaseHTTPRequestHandler):
    emulator: ProviderEmulator
    protocol_version = "HTTP/1.1"  # keep-alive, as provider APIs allow
    server_version = "provider-emulator/1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read the records instead
        pass

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _dispatch(self) -> None:
        parsed = urllib.parse.urlsplit(self.path)
        request = Request(
            method=self.command,
            path=parsed.path,
            query=urllib.parse.parse_qs(parsed.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=self._read_body(),
        )
        if request.path == "/_emulator" or request.path.startswith("/_emulator/"):
            response: Response | None = self.emulator.control(request)
        else:
            provider = self.emulator.route(request.path)
            if provider is None:
                response = Response(404, {"error": {"message": f"no emulated provider serves {request.path}",
                                                    "type": "EmulatorException", "code": 404}})
            else:
                if provider.mount:
                    request.path = request.path[len(provider.mount):] or "/"
                response = provider.serve(request)
        if response is None:
            self.close_connection = True
            try:
                self.connection.shutdown(2)
            except OSError:
                pass
            return
        data, headers = response.encoded()
        try:
            self.send_response(response.status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (e.g. its timeout fired)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _dispatch


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the provider emulator (Meta Graph Send API) on loopback.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9999)
    parser.add_argument("--page-access-token", action="append", dest="tokens", metavar="TOKEN",
                        help="accepted page access token (repeatable; default: any non-empty token)")
    parser.add_argument("--page-id", action="append", dest="page_ids", metavar="ID",
                        help="accepted page id in /<page-id>/messages (repeatable; default: any)")
    parser.add_argument("--account", action="append", dest="accounts", default=[], metavar="TOKEN=ID",
                        help="the page / Instagram account id a token's /me is, for the Conversations API "
                             "(repeatable; default: a made-up id per token)")
    parser.add_argument("--verbose", action="store_true", help="print each recorded request")
    args = parser.parse_args(argv)
    accounts = dict(a.split("=", 1) for a in args.accounts if "=" in a)

    graph = GraphProvider(access_tokens=args.tokens, page_ids=args.page_ids, accounts=accounts)
    emulator = ProviderEmulator(providers=[graph], host=args.host, port=args.port).start()
    print(f"provider emulator listening on {emulator.url}", flush=True)
    print(f"  graph_api_base: {emulator.url}/v21.0", flush=True)
    print(f"  control:        {emulator.url}/_emulator/requests, /_emulator/faults, /_emulator/reset", flush=True)
    def on_term(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)  # stop cleanly under service managers and test runners
    seen = 0
    try:
        while True:
            if args.verbose:
                graph.wait_for(lambda p: len(p.requests()) > seen, timeout=1.0)
                for record in graph.requests()[seen:]:
                    print(f"{record['method']} {record['path']} -> {record.get('status')} "
                          f"{record['outcome']} recipient={record.get('recipient')}", flush=True)
                    seen += 1
            else:
                threading.Event().wait(3600)
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
