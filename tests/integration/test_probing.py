"""Regression tests for the defects that probing the daemon as an attacker and an operator found:
authenticated bytes that are not clean UTF-8, 413 answers lost to a reset, refused requests that
left no log line, a tenant name echoed back raw, plugin counters of webhooks that were not stored."""

from __future__ import annotations

import json
import os
import resource
import socket
import time

from harness import DaemonTestCase, http_request, meta_body, meta_json, sign, unique_id, wait_until

FIXTURE_PLUGINS = os.environ.get("SWITCHBOARD_TEST_PLUGIN_DIR", "")


class AuthenticatedBytesTest(DaemonTestCase):
    """A correctly signed webhook is stored and acknowledged whatever its bytes hold."""

    def body_with_text(self, contact: str, text: bytes) -> bytes:
        """A Messenger text webhook for `contact` whose "text" value is exactly the bytes given (JSON
        escapes included): the bytes a provider would sign, damaged or not."""
        body = meta_body("messenger/text.json", account_id=self.demo.account_for("messenger"), contact_id=contact,
                         mid="m_" + unique_id(), text="TEXT-GOES-HERE")
        return meta_json(body).replace(b"TEXT-GOES-HERE", text)

    def post_raw(self, raw: bytes):
        headers = {"Content-Type": "application/json",
                   "X-Hub-Signature-256": sign(self.demo.secret_for("messenger"), raw)}
        return http_request("POST", self.daemon.url(f"/webhooks/messenger/{self.demo.name}"), raw, headers)

    def test_invalid_utf8_is_stored_byte_for_byte_and_answered(self) -> None:
        contact = unique_id()
        raw = self.body_with_text(contact, b"caf\xe9 ouvert?")
        result = self.post_raw(raw)
        self.assertEqual(result.status, 200, result)
        # The raw webhook is kept as it came (base64, since it is not UTF-8) ...
        rows = self.rows("SELECT body, body_encoding, status FROM webhook_events")
        self.assertEqual(len(rows), 1, rows)
        body, encoding, status = rows[0]
        self.assertEqual(encoding, "base64")
        import base64
        self.assertEqual(base64.b64decode(body), raw)
        self.assertEqual(status, "handled")
        # ... and the message is understood, the damaged byte marked with U+FFFD.
        texts = [r[0] for r in self.rows("SELECT text FROM messages WHERE direction = 'inbound'")]
        self.assertEqual(texts, ["caf\ufffd ouvert?"])
        self.wait_replies(contact)

    def test_a_lone_surrogate_costs_only_that_character(self) -> None:
        contact = unique_id()
        raw = self.body_with_text(contact, b"hi \\ud83d there")
        result = self.post_raw(raw)
        self.assertEqual(result.status, 200, result)
        self.assertEqual(self.count("webhook_events WHERE status = 'unhandled'"), 0)
        texts = [r[0] for r in self.rows("SELECT text FROM messages WHERE direction = 'inbound'")]
        self.assertEqual(texts, ["hi \ufffd there"])
        self.wait_replies(contact)

    def test_an_escaped_backslash_before_u_is_not_taken_for_a_surrogate(self) -> None:
        contact = unique_id()
        raw = self.body_with_text(contact, b"C:\\\\ud83d")
        self.assertEqual(self.post_raw(raw).status, 200)
        texts = [r[0] for r in self.rows("SELECT text FROM messages WHERE direction = 'inbound'")]
        self.assertEqual(texts, ["C:\\ud83d"])


class RefusalsTest(DaemonTestCase):
    start_automatically = False

    def test_a_413_reaches_a_client_that_sends_its_whole_body_first(self) -> None:
        self.start_daemon(server={"max_body_bytes": 4096})
        # 1 MiB, far over the limit, sent whole before reading (no Expect: 100-continue), in chunks
        # as a client on a real network would: a server that closes at once resets the connection
        # under the client's feet, and the 413 is lost with it.
        chunk_size, chunks = 64 * 1024, 16
        request = (b"POST /webhooks/messenger/demo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                   b"Content-Length: " + str(chunk_size * chunks).encode() + b"\r\n\r\n")
        with socket.create_connection(("127.0.0.1", self.daemon.port), timeout=10) as sock:
            sock.sendall(request)
            for _ in range(chunks):
                sock.sendall(b"x" * chunk_size)  # a reset here (BrokenPipeError) is the defect
                time.sleep(0.01)
            answer = b""
            while True:
                chunk = sock.recv(65536)  # a reset here (ConnectionResetError) is the defect
                if not chunk:
                    break
                answer += chunk
        self.assertTrue(answer.startswith(b"HTTP/1.1 413"), answer[:200])

    def test_refused_requests_are_logged_with_their_route(self) -> None:
        self.start_daemon()
        self.assertEqual(http_request("GET", self.daemon.url("/nothing-here")).status, 404)
        self.assertEqual(http_request("DELETE", self.daemon.url("/webhooks/messenger/demo")).status, 405)
        wait_until(lambda: "http: refused DELETE /webhooks/{plugin}/{tenant} with 405" in self.daemon.log(), 10,
                   message=lambda: self.daemon.log_tail())
        self.assertIn("http: refused GET other with 404", self.daemon.log())

    def test_refusals_are_rate_limited_at_info(self) -> None:
        self.start_daemon()
        for _ in range(40):
            self.assertEqual(http_request("GET", self.daemon.url("/nothing-here")).status, 404)
        wait_until(lambda: self.daemon.log().count("http: refused GET other with 404") >= 5, 10)
        self.assertLessEqual(self.daemon.log().count("http: refused GET other with 404"), 5)

    def test_a_tenant_name_is_never_echoed_back_raw(self) -> None:
        self.start_daemon()
        result = http_request("POST", self.daemon.url("/webhooks/messenger/ev%00il%1b%5B2J"), b"{}",
                              {"Content-Type": "application/json"})
        self.assertEqual(result.status, 404)
        self.assertNotIn(b"\x00", result.body)
        self.assertNotIn(b"\x1b", result.body)
        self.assertIn(b"unknown tenant 'ev?il?[2J'", result.body)


class UnstoredWebhookMetricsTest(DaemonTestCase):
    start_automatically = False

    def test_plugin_counters_of_a_webhook_answered_500_are_not_counted(self) -> None:
        if not FIXTURE_PLUGINS or not os.path.isdir(FIXTURE_PLUGINS):
            self.skipTest("SWITCHBOARD_TEST_PLUGIN_DIR is not set")
        config = self.make_config()
        config["plugins"]["paths"].append(FIXTURE_PLUGINS)
        config["tenants"]["counting"] = {"plugins": {"faulty": {"mode": "count_then_error"}}}
        config["tenants"]["fine"] = {"plugins": {"faulty": {"mode": "ok"}}}
        self.start_daemon(config)

        def post(tenant: str):
            body = json.dumps({"id": "m_" + unique_id(), "from": unique_id(), "text": "hi"}).encode()
            return http_request("POST", self.daemon.url(f"/webhooks/faulty/{tenant}"), body,
                                {"Content-Type": "application/json"})

        self.assertEqual(post("counting").status, 500)
        self.assertEqual(post("fine").status, 200)
        metrics = http_request("GET", self.daemon.url("/metrics")).text
        self.assertNotIn('switchboard_plugin_webhook_events_total{tenant="counting"', metrics)
        self.assertEqual(self.count("webhook_events WHERE tenant = 'counting'"), 0)


class LeaseWarningTest(DaemonTestCase):
    start_automatically = False

    def test_a_lease_shorter_than_the_send_timeout_is_warned_about(self) -> None:
        from harness import run_cli, to_yaml
        config = self.make_config(delivery={"lease": "5s", "http_timeout": "10s"})
        path = self.tmp / "short-lease.yaml"
        path.write_text(to_yaml(config) + "\n", encoding="utf-8")
        result = run_cli(["check-config", "--config", str(path)])
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertRegex(result.stderr, r"short-lease\.yaml:\d+:\d+: warning: delivery\.lease \(5000 ms\) is less than "
                                        r"twice delivery\.http_timeout \(10000 ms\)")
        self.assertIn("note: every acknowledged webhook is stored", result.stdout)


class DescriptorExhaustionTest(DaemonTestCase):
    start_automatically = False

    def test_out_of_descriptors_the_accept_loop_backs_off_and_logs_rate_limited(self) -> None:
        limit = 64

        def low_descriptor_limit() -> None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))

        config = self.make_config()
        from harness import Daemon
        daemon = Daemon(self.tmp, config, name="daemon1")
        daemon.preexec = low_descriptor_limit
        self.daemons.append(daemon)
        daemon.start()
        self.daemon = daemon
        held = []
        try:
            # Idle keep-alive connections until the daemon can accept no more, then some more that
            # wait in the listen backlog while it is out of descriptors.
            for _ in range(limit + 20):
                held.append(socket.create_connection(("127.0.0.1", daemon.port), timeout=5))
            wait_until(lambda: "cannot accept connections" in daemon.log(), 10, message=daemon.log_tail)
            start_cpu = self.cpu_seconds(daemon.process.pid)
            deadline = time.monotonic() + 2.0
            while time.monotonic() < deadline:  # observe the daemon while the condition lasts
                time.sleep(0.1)
            used = self.cpu_seconds(daemon.process.pid) - start_cpu
            self.assertLess(used, 0.5, "the daemon spun while out of file descriptors")
            self.assertLessEqual(daemon.log().count("cannot accept connections"), 2)
        finally:
            for sock in held:
                sock.close()
        # Once descriptors are free again it serves as before.
        wait_until(lambda: http_request("GET", daemon.url("/healthz"), timeout=2).status == 200, 15)

    @staticmethod
    def cpu_seconds(pid: int) -> float:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
