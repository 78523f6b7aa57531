"""Facebook comment auto-reply against the running daemon and the Graph API emulator: a comment on
one of the Page's posts (a signed `feed` change) becomes comment.received; the route answers it
with one private reply through the Send API (recipient {comment_id}) and a public reply
(POST /{comment-id}/comments); a re-delivered comment is never answered twice, the Page's own
comments and other feed changes are stored but not answered."""

from __future__ import annotations

import json
import time

from harness import DaemonTestCase, http_request, sign, wait_until

_ids = iter(range(1, 1_000_000))


class CommentReplyTest(DaemonTestCase):
    start_automatically = False

    def setUp(self) -> None:
        super().setUp()
        config = self.make_config()
        config["tenants"]["demo"]["routes"].append(
            {"on": "comment.received",
             "run": [{"stage": "messenger.comment_reply",
                      "with": {"private": "Hi {{name}}, we sent you the prices in a message.",
                               "public": "Thanks {{name}}! Check your inbox."}}]})
        self.start_daemon(config)

    def feed(self, author: str, *, name: str = "Bolor", item: str = "comment", verb: str = "add",
             comment_id: str | None = None) -> tuple[str, bytes]:
        page = self.demo.page_id
        comment_id = comment_id or f"{page}_post1_{next(_ids)}"
        value = {"from": {"id": author, "name": name}, "post": {"id": f"{page}_post1", "status_type": "added_photos"},
                 "message": "How much is this?", "post_id": f"{page}_post1", "comment_id": comment_id,
                 "created_time": int(time.time()), "item": item, "parent_id": f"{page}_post1", "verb": verb}
        body = {"object": "page", "entry": [{"id": page, "time": int(time.time() * 1000),
                                             "changes": [{"field": "feed", "value": value}]}]}
        return comment_id, json.dumps(body).encode()

    def post(self, raw: bytes):
        return http_request("POST", self.daemon.url("/webhooks/messenger/demo"), raw,
                            {"Content-Type": "application/json",
                             "X-Hub-Signature-256": sign(self.demo.app_secret, raw)})

    def test_a_comment_gets_one_private_and_one_public_reply_even_when_redelivered(self) -> None:
        comment_id, raw = self.feed("6100000001")
        for _ in range(3):
            self.assertEqual(self.post(raw).status, 200)
        private = wait_until(lambda: self.graph.accepted(private_reply_to=comment_id), message="the private reply")
        self.assertEqual(private[0]["text"], "Hi Bolor, we sent you the prices in a message.")
        public = wait_until(lambda: self.graph.accepted(endpoint="comments", comment_id=comment_id),
                            message="the public reply")
        self.assertEqual(public[0]["text"], "Thanks Bolor! Check your inbox.")
        self.assertEqual(self.count("events WHERE tenant = 'demo' AND type = 'comment.received'"), 1)
        wait_until(lambda: self.count("jobs WHERE tenant = 'demo' AND kind = 'command' AND state != 'done'") == 0
                   or None, message="the replies settled")
        self.assertEqual(len(self.graph.accepted(private_reply_to=comment_id)), 1)
        self.assertEqual(len(self.graph.accepted(endpoint="comments", comment_id=comment_id)), 1)
        self.assertEqual([r for r in self.graph.requests() if r.get("status") == 400], [])

    def test_the_page_s_own_comments_and_other_feed_changes_are_stored_but_not_answered(self) -> None:
        own_id, own = self.feed(self.demo.page_id, name="The Shop")
        _, like = self.feed("6100000002", item="reaction", verb="add")
        _, edit = self.feed("6100000003", verb="edited")
        for raw in (own, like, edit):
            self.assertEqual(self.post(raw).status, 200)
        self.assertEqual(self.count("webhook_events WHERE tenant = 'demo'"), 3)
        self.assertEqual(self.count("events WHERE tenant = 'demo' AND type = 'webhook.unhandled'"), 3)
        self.assertEqual(self.count("events WHERE tenant = 'demo' AND type = 'comment.received'"), 0)
        self.assertEqual(self.graph.accepted(private_reply_to=own_id), [])

    def test_a_forged_comment_stores_nothing(self) -> None:
        _, raw = self.feed("6100000004")
        forged = http_request("POST", self.daemon.url("/webhooks/messenger/demo"), raw,
                              {"Content-Type": "application/json", "X-Hub-Signature-256": sign("forged", raw)})
        self.assertEqual(forged.status, 401)
        self.assertEqual(self.count("webhook_events WHERE tenant = 'demo'"), 0)
