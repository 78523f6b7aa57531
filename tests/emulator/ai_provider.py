"""Model provider emulators: OpenAI Chat Completions (POST /v1/chat/completions, Bearer key,
mounted at /openai so a tenant's base_url is <emulator>/openai/v1) and the Anthropic Messages API
(POST /v1/messages, x-api-key and anthropic-version, mounted at /anthropic so base_url is
<emulator>/anthropic).

Both answer in their documented shapes with a deterministic text, "<reply_prefix> <the last user
message>", or the texts queued with answer_next() (a lead score's JSON, prose where JSON was asked
for), and usage counts; they record the request's model, system prompt and messages.
A wrong key gets 401 with the provider's error body (OpenAI {"error": {"message", "type",
"code"}}, Anthropic {"type": "error", "error": {"type", "message"}}); Anthropic also refuses
a request whose roles do not alternate starting with "user", or without anthropic-version, with
400. Presets: "rate_limited" (429 with retry-after: 1), "unavailable" (500), and for Anthropic
"overloaded" (529 overloaded_error).
"""

from __future__ import annotations

import collections
import itertools
import time
from typing import Any

from provider_emulator import Provider, Request, Response


class ScriptedAnswers:
    """Texts a model emulator answers with, in order, before it goes back to echoing; and how long
    the model takes to answer (latency_s: a slow model that does answer, unlike a hang fault)."""

    def __init__(self) -> None:
        self._queued: collections.deque[str] = collections.deque()
        self.latency_s = 0.0

    def think(self) -> None:
        if self.latency_s > 0:
            time.sleep(self.latency_s)

    def answer_next(self, *texts: str) -> None:
        self._queued.extend(texts)

    def next_text(self, default: str) -> str:
        try:
            return self._queued.popleft()
        except IndexError:
            return default


class OpenAIProvider(ScriptedAnswers, Provider):
    name = "openai"
    mount = "/openai"

    def __init__(self, api_key: str, reply_prefix: str = "[openai]"):
        ScriptedAnswers.__init__(self)
        Provider.__init__(self)
        self.api_key, self.reply_prefix = api_key, reply_prefix
        self._ids = itertools.count(1)

    def matches(self, path: str) -> bool:
        return path == "/v1/chat/completions"

    @staticmethod
    def error(status: int, message: str, kind: str, headers: dict[str, str] | None = None) -> Response:
        return Response(status, {"error": {"message": message, "type": kind, "param": None, "code": None}}, headers or {})

    def presets(self) -> dict[str, Response]:
        return {"rate_limited": self.error(429, "Rate limit reached for requests", "requests", {"retry-after": "1"}),
                "unavailable": self.error(500, "The server had an error while processing your request.", "server_error")}

    def handle(self, request: Request, record: dict[str, Any]) -> Response:
        if request.header("Authorization") != f"Bearer {self.api_key}":
            return self.error(401, "Incorrect API key provided.", "invalid_request_error")
        body = request.json()
        messages = body.get("messages") or []
        record.update(model=body.get("model"), messages=messages, temperature=body.get("temperature"),
                      max_tokens=body.get("max_tokens"), response_format=body.get("response_format"),
                      system=next((m["content"] for m in messages if m.get("role") == "system"), None))
        last = next((m["content"] for m in reversed(messages) if m.get("role") == "user"), "")
        self.think()
        text = self.next_text(f"{self.reply_prefix} {last}")
        record["reply"] = text
        return Response(200, {"id": f"chatcmpl-{next(self._ids)}", "object": "chat.completion",
                              "model": body.get("model"),
                              "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                           "finish_reason": "stop"}],
                              "usage": {"prompt_tokens": 10 * len(messages), "completion_tokens": len(text.split()),
                                        "total_tokens": 10 * len(messages) + len(text.split())}})


class AnthropicProvider(ScriptedAnswers, Provider):
    name = "anthropic"
    mount = "/anthropic"

    def __init__(self, api_key: str, reply_prefix: str = "[anthropic]"):
        ScriptedAnswers.__init__(self)
        Provider.__init__(self)
        self.api_key, self.reply_prefix = api_key, reply_prefix
        self._ids = itertools.count(1)

    def matches(self, path: str) -> bool:
        return path == "/v1/messages"

    @staticmethod
    def error(status: int, kind: str, message: str, headers: dict[str, str] | None = None) -> Response:
        return Response(status, {"type": "error", "error": {"type": kind, "message": message}}, headers or {})

    def presets(self) -> dict[str, Response]:
        return {"rate_limited": self.error(429, "rate_limit_error", "Number of requests has exceeded your rate limit",
                                           {"retry-after": "1"}),
                "unavailable": self.error(500, "api_error", "Internal server error"),
                "overloaded": self.error(529, "overloaded_error", "Overloaded")}

    def handle(self, request: Request, record: dict[str, Any]) -> Response:
        if request.header("x-api-key") != self.api_key:
            return self.error(401, "authentication_error", "invalid x-api-key")
        if not request.header("anthropic-version"):
            return self.error(400, "invalid_request_error", "anthropic-version: header is required")
        body = request.json()
        messages = body.get("messages") or []
        record.update(model=body.get("model"), messages=messages, system=body.get("system"),
                      max_tokens=body.get("max_tokens"))
        roles = [m.get("role") for m in messages]
        if not roles or roles[0] != "user" or any(a == b for a, b in zip(roles, roles[1:])):
            return self.error(400, "invalid_request_error", "messages: roles must alternate, starting with user")
        if not isinstance(body.get("max_tokens"), int):
            return self.error(400, "invalid_request_error", "max_tokens: Field required")
        self.think()
        text = self.next_text(f"{self.reply_prefix} {messages[-1].get('content', '')}")
        record["reply"] = text
        return Response(200, {"id": f"msg_{next(self._ids)}", "type": "message", "role": "assistant",
                              "model": body.get("model"), "content": [{"type": "text", "text": text}],
                              "stop_reason": "end_turn",
                              "usage": {"input_tokens": 10 * len(messages), "output_tokens": len(text.split())}})
