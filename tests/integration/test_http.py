"""HTTP ingress behaviour that belongs to no provider: keep-alive, the header and idle timeouts,
oversized headers, methods, /healthz."""

from __future__ import annotations

import http.client
import socket
import time

from harness import DaemonTestCase, http_request


class IngressTest(DaemonTestCase):
    start_automatically = False

    def setUp(self) -> None:
        super().setUp()
        self.start_daemon(server={"header_timeout": "700ms", "idle_timeout": "1500ms"})

    def connect(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.daemon.port), timeout=10)

    def closed_within(self, sock: socket.socket, seconds: float) -> float:
        """Seconds until the server closed the connection (recv returned EOF), failing past `seconds`."""
        start = time.monotonic()
        sock.settimeout(seconds)
        try:
            while sock.recv(4096):
                pass
        except socket.timeout:
            self.fail(f"the connection was still open after {seconds}s")
        return time.monotonic() - start

    def test_keep_alive_serves_several_requests_on_one_connection(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.daemon.port, timeout=10)
        for _ in range(3):
            conn.request("GET", "/healthz")
            response = conn.getresponse()
            self.assertEqual(response.status, 200)
            self.assertEqual(response.read(), b'{"status":"ok"}\n')
        conn.close()

    def test_a_request_that_never_finishes_its_headers_is_cut_off(self) -> None:
        with self.connect() as sock:
            sock.sendall(b"POST /webhooks/messenger/demo HTTP/1.1\r\nHost: x\r\n")  # and then nothing
            elapsed = self.closed_within(sock, 5)
        self.assertLess(elapsed, 3)

    def test_an_idle_keep_alive_connection_is_closed(self) -> None:
        with self.connect() as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            # The answer arrives, then the connection idles until idle_timeout (1.5 s) closes it.
            elapsed = self.closed_within(sock, 6)
        self.assertGreater(elapsed, 1.0)

    def test_oversized_headers_get_431(self) -> None:
        result = http_request("GET", self.daemon.url("/healthz"), headers={"X-Big": "a" * 70000})
        self.assertEqual(result.status, 431, result)

    def test_other_methods_and_paths(self) -> None:
        self.assertEqual(http_request("DELETE", self.daemon.url("/webhooks/messenger/demo")).status, 405)
        self.assertEqual(http_request("GET", self.daemon.url("/nothing-here")).status, 404)
        self.assertEqual(http_request("GET", self.daemon.url("/webhooks/")).status, 404)
        self.assertEqual(http_request("POST", self.daemon.url("/healthz")).status, 405)
