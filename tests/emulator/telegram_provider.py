"""Telegram Bot API emulator (core.telegram.org/bots/api): POST /bot<token>/sendMessage,
sendPhoto, sendVideo, sendAudio, sendDocument (the file as a URL), editMessageText,
answerCallbackQuery and setWebhook (https URLs only), mounted at /telegram (a tenant's api_base is
<emulator>/telegram).

Answers as the Bot API does: {"ok": true, "result": ...} or {"ok": false, "error_code",
"description", "parameters"?}. Unknown tokens get 401 "Unauthorized", a missing chat_id or text 400
"Bad Request: ...". Presets: "flood" (429 with parameters.retry_after = 1), "blocked" (403 "bot was
blocked by the user"), "unavailable" (502). Accepted sends are recorded with `chat_id`, `text`,
`reply_markup` and the `message_id` handed out.
"""

from __future__ import annotations

import itertools
import re
import time
from typing import Any, Iterable

from provider_emulator import Provider, Request, Response


def bot_error(code: int, description: str, retry_after: int | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return body


class TelegramProvider(Provider):
    name = "telegram"
    mount = "/telegram"
    _path = re.compile(r"^/bot([^/]+)/(sendMessage|sendPhoto|sendVideo|sendAudio|sendDocument|editMessageText|"
                       r"answerCallbackQuery|setWebhook)$")
    _media = {"sendPhoto": "photo", "sendVideo": "video", "sendAudio": "audio", "sendDocument": "document"}

    def __init__(self, tokens: Iterable[str] | None = None):
        super().__init__()
        self.tokens = set(tokens) if tokens is not None else None
        self._message_ids = itertools.count(100)

    def matches(self, path: str) -> bool:
        return self._path.match(path) is not None

    def presets(self) -> dict[str, Response]:
        return {
            "flood": Response(429, bot_error(429, "Too Many Requests: retry after 1", retry_after=1)),
            "blocked": Response(403, bot_error(403, "Forbidden: bot was blocked by the user")),
            "unavailable": Response(502, bot_error(502, "Bad Gateway")),
        }

    def describe_request(self, request: Request, exchange: dict[str, Any]) -> None:
        try:
            exchange["chat_id"] = str(request.json().get("chat_id"))
        except (ValueError, AttributeError):
            pass

    def handle(self, request: Request, record: dict[str, Any]) -> Response:
        match = self._path.match(request.path)
        assert match is not None
        token, method = match.group(1), match.group(2)
        record["method_name"] = method
        if request.method != "POST":
            return Response(405, bot_error(405, "Method Not Allowed"))
        if self.tokens is not None and token not in self.tokens:
            return Response(401, bot_error(401, "Unauthorized"))
        try:
            body = request.json()
        except ValueError:
            return Response(400, bot_error(400, "Bad Request: invalid JSON"))
        if method == "setWebhook":
            if not str(body.get("url", "")).startswith("https://"):
                return Response(400, bot_error(400, "Bad Request: bad webhook: HTTPS url must be provided for webhook"))
            record.update(url=body["url"], secret_token=body.get("secret_token"),
                          allowed_updates=body.get("allowed_updates"))
            return Response(200, {"ok": True, "result": True, "description": "Webhook was set"})
        if method == "answerCallbackQuery":
            if not body.get("callback_query_id"):
                return Response(400, bot_error(400, "Bad Request: query is too old or query ID is invalid"))
            record["callback_query_id"] = body["callback_query_id"]
            return Response(200, {"ok": True, "result": True})
        chat_id, text = body.get("chat_id"), body.get("text")
        if not chat_id:
            return Response(400, bot_error(400, "Bad Request: chat_id is empty"))
        if method == "editMessageText":
            if not isinstance(body.get("message_id"), int) or not text:
                return Response(400, bot_error(400, "Bad Request: message to edit not found"))
            record.update(chat_id=str(chat_id), text=text, message_id=body["message_id"],
                          reply_markup=body.get("reply_markup"))
            return Response(200, {"ok": True, "result": {"message_id": body["message_id"], "date": int(time.time()),
                                                         "chat": {"id": int(chat_id), "type": "private"}, "text": text}})
        if method in self._media:
            field = self._media[method]
            if not str(body.get(field, "")).startswith(("http://", "https://")):
                return Response(400, bot_error(400, f"Bad Request: wrong {field} URL"))
            record[field] = body[field]
            text = body.get("caption", "")
        elif not text:
            return Response(400, bot_error(400, "Bad Request: message text is empty"))
        message_id = next(self._message_ids)
        record.update(chat_id=str(chat_id), text=text, reply_markup=body.get("reply_markup"), message_id=message_id)
        return Response(200, {"ok": True, "result": {"message_id": message_id, "date": int(time.time()),
                                                     "chat": {"id": int(chat_id), "type": "private"}, "text": text}})
