#!/usr/bin/env python3
"""Posts a signed Messenger webhook to a running Switchboard, the way Meta would.

Usage:
  FACEBOOK_APP_SECRET=... FACEBOOK_PAGE_ID=... share/tools/post-sample-webhook.py [--text "Hi"]
  share/tools/post-sample-webhook.py --file tests/fixtures/integration/messenger/text.json
  share/tools/post-sample-webhook.py --url http://127.0.0.1:8080/webhooks/messenger/demo --secret s3cret

The body is a Messenger "messages" webhook (object=page) with one text message, or the file given
with --file. Unless --raw is given, the page id (entry[].id and the page side of each event) is set
from $FACEBOOK_PAGE_ID / --page-id, every time/timestamp is set to now (so the 24-hour messaging
window is open) and each message gets a fresh mid (so the daemon does not deduplicate it).
The exact bytes sent are signed: X-Hub-Signature-256: sha256=<hex HMAC-SHA256 keyed with the
app secret> (Meta "Webhooks > Validating Payloads").

Prints the HTTP status and the response body; exits 0 on a 2xx answer, 1 otherwise, 2 on bad usage.
Python 3 standard library only.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import secrets
import sys
import time
import urllib.error
import urllib.request

DEFAULT_URL = "http://127.0.0.1:8080/webhooks/messenger"
DEFAULT_PSID = "5190000000000001"


def sample_body(page_id: str, psid: str, text: str) -> dict:
    """A Messenger webhook with one inbound text message, as Meta delivers it."""
    now = int(time.time() * 1000)
    return {
        "object": "page",
        "entry": [{
            "id": page_id,
            "time": now,
            "messaging": [{
                "sender": {"id": psid},
                "recipient": {"id": page_id},
                "timestamp": now,
                "message": {"mid": "", "text": text},
            }],
        }],
    }


def refresh(body: dict, page_id: str | None, psid: str | None) -> dict:
    """Sets page id, customer id, timestamps and mids as documented in the module docstring."""
    now = int(time.time() * 1000)
    for entry in body.get("entry", []):
        if page_id:
            entry["id"] = page_id
        entry["time"] = now
        for key in ("messaging", "standby"):
            for event in entry.get(key, []):
                event["timestamp"] = now
                message = event.get("message") or {}
                echo = bool(message.get("is_echo"))
                page_side, customer_side = ("sender", "recipient") if echo else ("recipient", "sender")
                if page_id:
                    event[page_side] = {"id": page_id}
                if psid:
                    event[customer_side] = {"id": psid}
                if "mid" in message:
                    message["mid"] = f"m_sample_{now}_{secrets.token_hex(6)}"
    return body


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Post a signed sample Messenger webhook to Switchboard.")
    parser.add_argument("--url", default=DEFAULT_URL, help=f"webhook URL (default {DEFAULT_URL})")
    parser.add_argument("--secret", default=os.environ.get("FACEBOOK_APP_SECRET"),
                        help="Meta app secret used to sign (default $FACEBOOK_APP_SECRET)")
    parser.add_argument("--page-id", default=os.environ.get("FACEBOOK_PAGE_ID"),
                        help="Facebook page id (default $FACEBOOK_PAGE_ID)")
    parser.add_argument("--psid", default=None, help=f"customer PSID (default {DEFAULT_PSID} for the built-in sample)")
    parser.add_argument("--text", default="Hello! Is anyone there?", help="message text for the built-in sample")
    parser.add_argument("--file", help="post this webhook body (JSON) instead of the built-in sample")
    parser.add_argument("--raw", action="store_true", help="with --file: send the file's bytes unchanged")
    parser.add_argument("--timeout", type=float, default=15.0, help="seconds to wait for the answer")
    args = parser.parse_args(argv)

    if not args.secret:
        print("error: no app secret: set FACEBOOK_APP_SECRET or pass --secret", file=sys.stderr)
        return 2
    if args.raw and not args.file:
        print("error: --raw needs --file", file=sys.stderr)
        return 2

    if args.file:
        try:
            with open(args.file, "rb") as f:
                data = f.read()
        except OSError as exc:
            print(f"error: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
            return 2
        if not args.raw:
            try:
                body = json.loads(data)
            except ValueError as exc:
                print(f"error: {args.file} is not JSON ({exc}); use --raw to send it unchanged", file=sys.stderr)
                return 2
            data = json.dumps(refresh(body, args.page_id, args.psid), separators=(",", ":")).encode("ascii")
    else:
        if not args.page_id:
            print("error: no page id: set FACEBOOK_PAGE_ID or pass --page-id", file=sys.stderr)
            return 2
        body = refresh(sample_body(args.page_id, args.psid or DEFAULT_PSID, args.text), None, None)
        # Meta escapes non-ASCII as \uXXXX; ensure_ascii does the same, and the signature covers these bytes.
        data = json.dumps(body, separators=(",", ":"), ensure_ascii=True).encode("ascii")

    signature = "sha256=" + hmac.new(args.secret.encode("utf-8"), data, hashlib.sha256).hexdigest()
    request = urllib.request.Request(args.url, data=data, method="POST", headers={
        "Content-Type": "application/json",
        "X-Hub-Signature-256": signature,
        "User-Agent": "facebookexternalua",
    })
    try:
        with urllib.request.urlopen(request, timeout=args.timeout) as response:
            status, answer = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, answer = exc.code, exc.read()
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        print(f"error: cannot reach {args.url}: {reason}", file=sys.stderr)
        return 1
    print(status)
    print(answer.decode("utf-8", "replace"))
    return 0 if 200 <= status < 300 else 1


if __name__ == "__main__":
    sys.exit(main())
