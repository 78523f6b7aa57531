"""The business's own webhook endpoint (mounted at /business), as the outbound webhook sink
(plugins/notify-webhook) calls it: accepts any POST with 200 and records its headers and raw body,
so a test can verify the Standard Webhooks signature with an independent implementation
(tests/verifiers). Presets: "gone" (410), "throttled" (429 with retry-after: 1), "unavailable"
(503), "refused" (400)."""

from __future__ import annotations

from typing import Any

from provider_emulator import Provider, Request, Response


class BusinessEndpoint(Provider):
    name = "business"
    mount = "/business"

    def matches(self, path: str) -> bool:
        return path.startswith("/")

    def presets(self) -> dict[str, Response]:
        return {"gone": Response(410, {"error": "gone"}),
                "throttled": Response(429, {"error": "slow down"}, {"retry-after": "1"}),
                "unavailable": Response(503, {"error": "maintenance"}),
                "refused": Response(400, {"error": "bad request"})}

    def handle(self, request: Request, record: dict[str, Any]) -> Response:
        if request.method != "POST":
            return Response(405, {"error": "POST only"})
        record["raw_body"] = request.body.decode("utf-8")
        return Response(200, {"ok": True})
