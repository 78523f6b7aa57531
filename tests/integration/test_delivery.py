"""Delivery: retries with backoff on retryable failures, dead letters on final or persistent ones,
and the durability contract across SIGKILL and SIGTERM (every acknowledged message answered
exactly once)."""

from __future__ import annotations

import signal
import unittest

from harness import now_ms, DaemonTestCase, graph_error_body


class RetryTest(DaemonTestCase):
    def send_job_rows(self) -> list[tuple]:
        return self.rows("SELECT state, attempts, last_error FROM jobs WHERE kind = 'command'")

    def test_500_then_success_is_retried_once_and_replied_once(self) -> None:
        self.graph.fail(500, graph_error_body("An unexpected error has occurred. Please retry your request later.",
                                              2, is_transient=True), count=1)
        contact, _, _ = self.send_text()
        self.assert_exactly_one_reply(contact)
        attempts = self.attempts_to(contact)
        self.assertEqual([a["outcome"] for a in attempts], ["fault", "accepted"], attempts)
        [(state, tries, _)] = self.send_job_rows()
        self.assertEqual((state, tries), ("done", "2"))

    def test_retryable_failures(self) -> None:
        cases = {
            "503": dict(status=503, body="Service Unavailable"),
            "429": dict(preset="rate_limited", headers={"Retry-After": "0"}),
            "is_transient on a 400": dict(preset="temporary_send_failure"),
            "5xx Graph error": dict(preset="transient"),
        }
        contacts = {}
        for name, fault in cases.items():
            # Faults apply to whichever request comes next, so run the cases one after another.
            self.graph.fail(count=2, **fault)
            contact, _, _ = self.send_text()
            self.wait_replies(contact, 1)
            contacts[name] = contact
        for name, contact in contacts.items():
            with self.subTest(name):
                self.assert_exactly_one_reply(contact)
                self.assertEqual([a["outcome"] for a in self.attempts_to(contact)], ["fault", "fault", "accepted"])

    def test_timeout_is_retried(self) -> None:
        # send_timeout is 1s in the test config; the emulator holds the first request for 5s.
        self.graph.hang(5, count=1)
        contact, _, _ = self.send_text()
        self.assert_exactly_one_reply(contact)
        self.assertEqual([a["outcome"] for a in self.attempts_to(contact)], ["hang", "accepted"])

    def test_persistent_503_ends_in_a_dead_letter(self) -> None:
        self.graph.fail(503, graph_error_body("Service temporarily unavailable", 2, is_transient=True), count=None)
        contact, _, _ = self.send_text()
        self.wait(lambda: self.count("jobs WHERE kind = 'command' AND state = 'dead'") == 1,
                  "the send job to become a dead letter")
        self.wait_idle()
        [(state, tries, last_error)] = self.send_job_rows()
        max_attempts = self.daemon.config["delivery"]["max_attempts"]
        self.assertEqual(tries, str(max_attempts))
        self.assertTrue(last_error, "a dead letter keeps its last error")
        self.assertIn("503", last_error)
        self.assertEqual(len(self.attempts_to(contact)), max_attempts)
        self.assertEqual(self.replies_to(contact), [])

    def test_invalid_parameter_is_dead_at_once(self) -> None:
        self.graph.fail(preset="invalid_parameter", count=None)
        contact, _, _ = self.send_text()
        self.wait(lambda: self.count("jobs WHERE kind = 'command' AND state = 'dead'") == 1,
                  "the send job to become a dead letter")
        self.wait_idle()
        [(_, tries, last_error)] = self.send_job_rows()
        self.assertEqual(tries, "1")
        self.assertIn("100", last_error or "")
        self.assertEqual(len(self.attempts_to(contact)), 1)

    def test_is_transient_false_on_a_500_is_still_retried_only_within_max_attempts(self) -> None:
        # A 5xx is retryable whatever the body says; the attempt bound still holds.
        self.graph.fail(500, graph_error_body("Internal error", 1, is_transient=False), count=None)
        contact, _, _ = self.send_text()
        self.wait(lambda: self.count("jobs WHERE kind = 'command' AND state = 'dead'") == 1,
                  "the send job to become a dead letter")
        self.assertEqual(len(self.attempts_to(contact)), self.daemon.config["delivery"]["max_attempts"])


class WrongTokenTest(DaemonTestCase):
    start_automatically = False

    def test_rejected_page_access_token_is_a_dead_letter_at_once(self) -> None:
        self.start_daemon(messenger_overrides={"page_access_token": "EAAGrevokedtoken"})
        contact, _, _ = self.send_text()
        self.wait(lambda: self.count("jobs WHERE kind = 'command' AND state = 'dead'") == 1,
                  "the send job to become a dead letter")
        self.wait_idle()
        last_error = self.scalar("SELECT last_error FROM jobs WHERE kind = 'command'") or ""
        self.assertIn("190", last_error)
        self.assertNotIn("EAAGrevokedtoken", last_error, "a token must not be copied into errors")
        self.assertEqual([a["status"] for a in self.attempts_to(contact)], [401])
        self.assertNotIn("EAAGrevokedtoken", self.daemon.log())


class CrashRecoveryTest(DaemonTestCase):
    start_automatically = False

    def test_kill_9_with_pending_work_loses_nothing(self) -> None:
        # Many attempts with a short backoff keep the jobs cycling while the provider fails; a
        # short lease lets the restarted daemon take over jobs that were running at the crash.
        self.start_daemon(delivery={"max_attempts": 1000, "backoff_initial": "20ms", "backoff_max": "100ms",
                                    "lease": "2s"})
        self.graph.fail(503, graph_error_body("Service temporarily unavailable", 2, is_transient=True), count=None)
        retrying = [self.send_text(text=f"order {i}")[0] for i in range(6)]
        self.wait(lambda: all(self.attempts_to(c) for c in retrying),
                  "every send to have been attempted at least once")
        # These are acknowledged but may not even have been routed when the process dies.
        just_acked = [self.send_text(text=f"late order {i}")[0] for i in range(4)]
        self.daemon.kill()
        self.wait_provider_quiet()  # what the dead process wrote is answered under the faults
        self.assertEqual(self.graph.accepted(), [])
        self.graph.clear_faults()

        self.restart_daemon()
        contacts = retrying + just_acked
        self.wait(lambda: all(self.replies_to(c) for c in contacts), "a reply to every acknowledged message")
        self.wait_idle()
        self.assertEqual({c: len(self.replies_to(c)) for c in contacts}, {c: 1 for c in contacts})

    def test_kill_9_with_sends_in_flight(self) -> None:
        # The provider holds every send, so jobs are 'running' under a lease when the process
        # dies; the new process must take them over once the lease expires. (Without a fault, a
        # send the provider accepted in the instant before SIGKILL could legitimately be repeated:
        # the Send API has no idempotency key. Holding the sends keeps that window out of the test.)
        self.start_daemon(delivery={"lease": "2s"})
        self.graph.hang(60, count=None)
        contacts = []
        for i in range(5):
            contact, _, _ = self.send_text(text=f"message {i}")
            contacts.append(contact)
        self.wait(lambda: any(r["outcome"] == "hang" for r in self.graph.requests()), "a send to be in flight")
        self.daemon.kill()
        self.wait_provider_quiet()  # what the dead process wrote is answered under the faults
        self.assertEqual(self.graph.accepted(), [])
        self.graph.clear_faults()
        self.restart_daemon()
        self.wait(lambda: all(self.replies_to(c) for c in contacts), "a reply to every acknowledged message")
        self.wait_idle()
        self.assertEqual({c: len(self.replies_to(c)) for c in contacts}, {c: 1 for c in contacts})


class UnknownOutcomeTest(DaemonTestCase):
    """The provider accepted a send but its answer never arrived, and the process died: the
    outcome is unknown to the daemon. The provider's echo of our own message settles it."""

    start_automatically = False

    def post_echo(self, plugin: str, contact: str, accepted: dict, metadata: str | None) -> None:
        account = self.demo.account_for(plugin)
        message = {"is_echo": True, "app_id": 1517000000000001, "mid": accepted["message_id"],
                   "text": accepted["text"]}
        if metadata is not None:
            message["metadata"] = metadata
        body = {"object": "page" if plugin == "messenger" else "instagram",
                "entry": [{"id": account, "time": now_ms(), "messaging": [
                    {"sender": {"id": account}, "recipient": {"id": contact}, "timestamp": now_ms(),
                     "message": message}]}]}
        self.assertEqual(self.post_webhook(plugin, body).status, 200)

    def test_messenger_echo_with_the_job_id_prevents_a_second_reply(self) -> None:
        contact, accepted = self.crash_after_accepted_send("messenger")
        self.assertTrue(accepted["metadata"], accepted)  # our job id, echoed back by Meta
        self.restart_daemon()
        self.post_echo("messenger", contact, accepted, metadata=accepted["metadata"])
        self.wait_idle()
        self.assertEqual(len(self.replies_to(contact)), 1)
        self.assertIn("an interrupted attempt was delivered (echo seen)", self.daemon.log())
        self.assertEqual(self.count("jobs WHERE kind = 'command' AND state = 'done'"), 1)

    def test_instagram_echo_with_the_same_text_prevents_a_second_reply(self) -> None:
        contact, accepted = self.crash_after_accepted_send("instagram")
        self.restart_daemon()
        self.post_echo("instagram", contact, accepted, metadata=None)
        self.wait_idle()
        self.assertEqual(len(self.replies_to(contact)), 1)

    # Without any proof (no echo, the provider lookup failing) the reply is sent again after the
    # grace: test_delivery_proof.DeliveryProofTest.test_failed_lookup_falls_back_to_sending_again.


class GracefulStopTest(DaemonTestCase):
    def test_sigterm_exits_0(self) -> None:
        contact, _, _ = self.send_text()
        self.assert_exactly_one_reply(contact)
        self.assertEqual(self.daemon.stop(signal.SIGTERM, timeout=15), 0, self.daemon.log_tail())

    def test_sigint_exits_0(self) -> None:
        self.assertEqual(self.daemon.stop(signal.SIGINT, timeout=15), 0, self.daemon.log_tail())

    def test_sigterm_during_a_send_keeps_the_job(self) -> None:
        self.graph.hang(30, count=None)
        contact, _, _ = self.send_text()
        self.wait(lambda: self.attempts_to(contact), "the send to reach the (hanging) provider")
        self.assertEqual(self.daemon.stop(signal.SIGTERM, timeout=15), 0, self.daemon.log_tail())
        self.graph.clear_faults()
        self.restart_daemon()
        self.assert_exactly_one_reply(contact)


if __name__ == "__main__":
    unittest.main()
