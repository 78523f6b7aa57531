"""The provider emulator on its own (no daemon needed): Graph Send API behaviour, fault
injection from Python and over HTTP, recording, provider routing, standalone mode."""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import sys
import threading
import time
import unittest
import urllib.parse

from harness import TESTS_DIR, free_port, http_request, wait_until

sys.path.insert(0, str(TESTS_DIR / "emulator"))
from provider_emulator import GraphProvider, Provider, ProviderEmulator, Response  # noqa: E402

TOKEN = "EAAGtesttoken123"
PSID = "5190000000000042"


def send_body(recipient: str = PSID, text: str | None = "hi", **extra) -> dict:
    body: dict = {"recipient": {"id": recipient}, "messaging_type": "RESPONSE"}
    if text is not None:
        body["message"] = {"text": text}
    body.update(extra)
    return body


class GraphSendApiTest(unittest.TestCase):
    def setUp(self) -> None:
        self.graph = GraphProvider(access_tokens={TOKEN}, page_ids={"104020000000001"})
        self.emulator = ProviderEmulator(providers=[self.graph]).start()
        self.base = self.emulator.url + "/v21.0"

    def tearDown(self) -> None:
        self.emulator.stop()

    def post(self, body, *, token: str | None = TOKEN, path: str = "/me/messages", query: str = "",
             headers: dict | None = None, timeout: float = 10.0):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        all_headers = {"Content-Type": "application/json"}
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        all_headers.update(headers or {})
        return http_request("POST", self.base + path + query, data, all_headers, timeout=timeout)

    def assert_graph_error(self, result, status: int, code: int) -> dict:
        self.assertEqual(result.status, status, result)
        error = result.json()["error"]
        self.assertEqual(error["code"], code)
        self.assertIsInstance(error["message"], str)
        self.assertTrue(error["message"])
        self.assertIn("type", error)
        self.assertTrue(error["fbtrace_id"])
        return error

    def test_accepts_a_valid_send_and_records_it(self) -> None:
        body = send_body(text="Your order has shipped")
        body["message"]["metadata"] = "job-17"
        result = self.post(body)
        self.assertEqual(result.status, 200, result)
        answer = result.json()
        self.assertEqual(answer["recipient_id"], PSID)
        self.assertTrue(answer["message_id"].startswith("m_"))
        [record] = self.graph.accepted()
        self.assertEqual(record["recipient"], PSID)
        self.assertEqual(record["text"], "Your order has shipped")
        self.assertEqual(record["metadata"], "job-17")
        self.assertEqual(record["messaging_type"], "RESPONSE")
        self.assertEqual(record["token"], TOKEN)
        self.assertEqual(record["message_id"], answer["message_id"])
        self.assertEqual(record["headers"]["authorization"], f"Bearer {TOKEN}")
        self.assertEqual(record["api_version"], "v21.0")
        self.assertEqual(record["page"], "me")

    def test_message_ids_are_unique(self) -> None:
        ids = {self.post(send_body()).json()["message_id"] for _ in range(20)}
        self.assertEqual(len(ids), 20)

    def test_token_in_query_or_form_body(self) -> None:
        result = self.post(send_body(), token=None, query="?access_token=" + TOKEN)
        self.assertEqual(result.status, 200, result)
        form = urllib.parse.urlencode({
            "recipient": json.dumps({"id": PSID}), "messaging_type": "RESPONSE",
            "message": json.dumps({"text": "form"}), "access_token": TOKEN}).encode()
        result = self.post(form, token=None, headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(result.status, 200, result)
        self.assertEqual([r["text"] for r in self.graph.accepted()], ["hi", "form"])

    def test_page_id_path(self) -> None:
        self.assertEqual(self.post(send_body(), path="/104020000000001/messages").status, 200)
        error = self.assert_graph_error(self.post(send_body(), path="/999/messages"), 400, 100)
        self.assertEqual(error["error_subcode"], 33)

    def test_wrong_or_missing_token(self) -> None:
        error = self.assert_graph_error(self.post(send_body(), token="nope"), 401, 190)
        self.assertEqual(error["type"], "OAuthException")
        self.assert_graph_error(self.post(send_body(), token=None), 401, 2500)
        self.assertEqual(self.graph.accepted(), [])
        self.assertEqual([r["outcome"] for r in self.graph.requests()], ["rejected", "rejected"])

    def test_invalid_parameters_answer_code_100(self) -> None:
        cases = {
            "no recipient": {"messaging_type": "RESPONSE", "message": {"text": "x"}},
            "recipient without id": {"recipient": {}, "messaging_type": "RESPONSE", "message": {"text": "x"}},
            "no messaging_type": {"recipient": {"id": PSID}, "message": {"text": "x"}},
            "bad messaging_type": send_body(messaging_type="WHENEVER"),
            "tag missing": send_body(messaging_type="MESSAGE_TAG"),
            "no message": send_body(text=None),
            "empty text": send_body(text=""),
            "text too long": send_body(text="x" * 2001),
            "message without text or attachment": {**send_body(), "message": {"metadata": "m"}},
        }
        for name, body in cases.items():
            with self.subTest(name):
                self.assert_graph_error(self.post(body), 400, 100)
        self.assert_graph_error(self.post(b"{not json"), 400, 100)
        self.assertEqual(self.graph.accepted(), [])
        self.assertEqual(self.post(send_body(text="x" * 2000)).status, 200)

    def test_sender_action_without_message(self) -> None:
        result = self.post({"recipient": {"id": PSID}, "sender_action": "typing_on"})
        self.assertEqual(result.status, 200, result)
        self.assertEqual(result.json(), {"recipient_id": PSID})

    def test_unknown_path_is_404_and_get_is_refused(self) -> None:
        self.assertEqual(http_request("GET", self.emulator.url + "/nothing/here").status, 404)
        result = http_request("GET", self.base + "/me/messages?access_token=" + TOKEN)
        self.assert_graph_error(result, 400, 100)

    def test_fault_for_next_n_requests_then_success(self) -> None:
        self.graph.fail(500, {"error": {"message": "boom", "code": 2, "is_transient": True}}, count=2)
        self.assertEqual(self.post(send_body()).status, 500)
        self.assertEqual(self.post(send_body()).json()["error"]["message"], "boom")
        self.assertEqual(self.post(send_body()).status, 200)
        self.assertEqual([r["outcome"] for r in self.graph.requests()], ["fault", "fault", "accepted"])
        # Faulted requests are still described, so attempts can be counted per recipient.
        self.assertEqual(len(self.graph.requests(recipient=PSID)), 3)
        self.assertEqual(self.graph.faults(), [])

    def test_fault_forever_until_cleared(self) -> None:
        self.graph.fail(503, "unavailable", count=None)
        for _ in range(5):
            self.assertEqual(self.post(send_body()).status, 503)
        self.assertEqual(self.graph.faults()[0]["hits"], 5)
        self.graph.clear_faults()
        self.assertEqual(self.post(send_body()).status, 200)

    def test_presets_have_graph_error_shape(self) -> None:
        expected = {"transient": (500, 2, True), "temporary_send_failure": (400, 1200, True),
                    "rate_limited": (429, 4, True), "invalid_parameter": (400, 100, False),
                    "invalid_token": (401, 190, False), "outside_window": (400, 10, False),
                    "user_unavailable": (400, 551, False), "service_unavailable": (503, 2, True)}
        self.assertEqual(set(self.graph.presets()), set(expected))
        for preset, (status, code, transient) in expected.items():
            with self.subTest(preset):
                self.graph.fail(preset=preset)
                error = self.assert_graph_error(self.post(send_body()), status, code)
                self.assertIs(error["is_transient"], transient)
        with self.assertRaises(ValueError):
            self.graph.fail(preset="no-such-preset")

    def test_fault_path_filter(self) -> None:
        self.graph.fail(500, count=None, path=r"^/v21\.0/104020000000001/")
        self.assertEqual(self.post(send_body()).status, 200)
        self.assertEqual(self.post(send_body(), path="/104020000000001/messages").status, 500)

    def test_hang_drops_the_connection_after_the_client_times_out(self) -> None:
        self.graph.hang(2.0, count=1)
        started = time.monotonic()
        with self.assertRaises((socket.timeout, TimeoutError)):
            self.post(send_body(), timeout=0.3)
        self.assertLess(time.monotonic() - started, 1.5)
        self.assertEqual(self.post(send_body()).status, 200)
        self.assertEqual([r["outcome"] for r in self.graph.requests()], ["hang", "accepted"])

    def test_hang_then_answer(self) -> None:
        self.graph.fail(504, {"error": {"message": "late"}}, hang_seconds=0.2)
        started = time.monotonic()
        result = self.post(send_body())
        self.assertGreaterEqual(time.monotonic() - started, 0.2)
        self.assertEqual(result.status, 504)

    def test_clearing_faults_releases_hung_requests(self) -> None:
        self.graph.hang(60, count=None)
        outcome: dict = {}

        def client() -> None:
            try:
                outcome["result"] = self.post(send_body(), timeout=30)
            except (OSError, http.client.HTTPException) as exc:
                outcome["error"] = exc

        thread = threading.Thread(target=client)
        started = time.monotonic()
        thread.start()
        self.assertTrue(self.graph.wait_for(lambda g: len(g.requests("hang")) == 1, timeout=5))
        self.graph.clear_faults()
        thread.join(10)
        self.assertFalse(thread.is_alive())
        self.assertLess(time.monotonic() - started, 10)
        self.assertIn("error", outcome)  # dropped without an answer

    def test_wait_for_wakes_on_new_requests(self) -> None:
        threading.Timer(0.1, lambda: self.post(send_body())).start()
        self.assertTrue(self.graph.wait_for(lambda g: len(g.accepted()) == 1, timeout=5))
        self.assertFalse(self.graph.wait_for(lambda g: len(g.accepted()) == 2, timeout=0.1))

    def test_keep_alive_connection_serves_several_requests(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.emulator.port, timeout=5)
        try:
            for _ in range(3):
                conn.request("POST", "/v21.0/me/messages", json.dumps(send_body()),
                             {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"})
                response = conn.getresponse()
                response.read()
                self.assertEqual(response.status, 200)
        finally:
            conn.close()
        self.assertEqual(len(self.graph.accepted()), 3)

    def test_chunked_request_body(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.emulator.port, timeout=5)
        try:
            data = json.dumps(send_body(text="chunked")).encode()
            conn.request("POST", "/v21.0/me/messages", body=iter([data[:10], data[10:]]),
                         headers={"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"},
                         encode_chunked=True)
            response = conn.getresponse()
            response.read()
            self.assertEqual(response.status, 200)
        finally:
            conn.close()
        self.assertEqual(self.graph.accepted()[0]["text"], "chunked")


class ControlApiTest(unittest.TestCase):
    def setUp(self) -> None:
        self.graph = GraphProvider(access_tokens={TOKEN})
        self.emulator = ProviderEmulator(providers=[self.graph]).start()

    def tearDown(self) -> None:
        self.emulator.stop()

    def control(self, method: str, path: str, body: dict | None = None):
        data = json.dumps(body).encode() if body is not None else None
        return http_request(method, self.emulator.url + "/_emulator" + path, data,
                            {"Content-Type": "application/json"} if data else {})

    def send(self):
        return http_request("POST", self.emulator.url + "/v21.0/me/messages", json.dumps(send_body()).encode(),
                            {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"})

    def test_faults_requests_and_reset_over_http(self) -> None:
        result = self.control("POST", "/faults", {"provider": "graph", "status": 429, "count": 1,
                                                  "body": {"error": {"message": "slow down", "code": 4}}})
        self.assertEqual(result.status, 200, result)
        self.assertEqual(result.json()["count"], 1)
        self.assertEqual(len(self.control("GET", "/faults").json()["faults"]), 1)
        self.assertEqual(self.send().status, 429)
        self.assertEqual(self.send().status, 200)
        records = self.control("GET", "/requests?provider=graph").json()["requests"]
        self.assertEqual([r["outcome"] for r in records], ["fault", "accepted"])
        accepted = self.control("GET", "/requests?outcome=accepted").json()["requests"]
        self.assertEqual(len(accepted), 1)
        self.assertEqual(accepted[0]["recipient"], PSID)

        self.assertEqual(self.control("POST", "/faults", {"preset": "transient", "count": None}).status, 200)
        self.assertEqual(self.send().status, 500)
        self.assertEqual(self.control("DELETE", "/faults").status, 200)
        self.assertEqual(self.send().status, 200)
        self.assertEqual(self.control("POST", "/faults", {"status": 500, "count": None}).status, 200)
        self.assertEqual(self.control("POST", "/faults/clear").status, 200)
        self.assertEqual(self.send().status, 200)

        self.assertEqual(self.control("POST", "/reset").status, 200)
        self.assertEqual(self.control("GET", "/requests").json()["requests"], [])

    def test_hang_over_http(self) -> None:
        self.assertEqual(self.control("POST", "/faults", {"hang_seconds": 0.2, "status": 503}).status, 200)
        started = time.monotonic()
        self.assertEqual(self.send().status, 503)
        self.assertGreaterEqual(time.monotonic() - started, 0.2)

    def test_control_errors(self) -> None:
        self.assertEqual(self.control("POST", "/faults", {"provider": "telegram", "status": 500}).status, 404)
        self.assertEqual(self.control("POST", "/faults", {"status": 500, "colour": "red"}).status, 400)
        self.assertEqual(self.control("POST", "/faults", {"count": 1}).status, 400)
        self.assertEqual(self.control("POST", "/faults", {"preset": "bogus"}).status, 400)
        self.assertEqual(self.control("POST", "/faults", {"status": 500, "count": 0}).status, 400)
        self.assertEqual(self.control("GET", "/requests?provider=nope").status, 404)
        self.assertEqual(self.control("GET", "/nothing").status, 404)
        providers = self.control("GET", "/providers").json()["providers"]
        self.assertEqual([p["name"] for p in providers], ["graph"])
        self.assertIn("transient", providers[0]["presets"])


class EchoProvider(Provider):
    """A second provider mounted under a prefix, to check that providers share one server."""

    name = "echo"
    mount = "/echo"

    def matches(self, path: str) -> bool:
        return path.startswith("/say/")

    def handle(self, request, record):
        record["said"] = request.path[len("/say/"):]
        return Response(200, {"said": record["said"]})


class RegistryTest(unittest.TestCase):
    def test_providers_share_one_server_and_have_separate_faults(self) -> None:
        graph, echo = GraphProvider(), EchoProvider()
        with ProviderEmulator(providers=[graph, echo]) as emulator:
            self.assertIs(emulator.echo, echo)
            self.assertIs(emulator.graph, graph)
            result = http_request("GET", emulator.url + "/echo/say/hello")
            self.assertEqual(result.json(), {"said": "hello"})
            self.assertEqual(http_request("GET", emulator.url + "/echo/other").status, 404)
            echo.fail(503, count=None)
            self.assertEqual(http_request("GET", emulator.url + "/echo/say/x").status, 503)
            # Any non-empty token is accepted when none is configured.
            sent = http_request("POST", emulator.url + "/v19.0/me/messages", json.dumps(send_body()).encode(),
                                {"Content-Type": "application/json", "Authorization": "Bearer anything"})
            self.assertEqual(sent.status, 200)
            self.assertEqual(len(echo.requests()), 2)
            self.assertEqual(len(graph.requests()), 1)
            emulator.reset()
            self.assertEqual(echo.faults(), [])
            self.assertEqual(echo.requests(), [])

    def test_duplicate_provider_names_are_refused(self) -> None:
        with self.assertRaises(ValueError):
            ProviderEmulator(providers=[GraphProvider(), GraphProvider()])


class StandaloneTest(unittest.TestCase):
    def test_runs_as_a_script(self) -> None:
        port = free_port()
        script = TESTS_DIR / "emulator" / "provider_emulator.py"
        process = subprocess.Popen([sys.executable, str(script), "--port", str(port), "--page-access-token", TOKEN],
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            def up():
                try:
                    return http_request("GET", f"http://127.0.0.1:{port}/_emulator/providers", timeout=1).status == 200
                except OSError:
                    return process.poll() is not None
            wait_until(up, 10, message="standalone emulator to listen")
            self.assertIsNone(process.poll(), "standalone emulator exited early")
            result = http_request("POST", f"http://127.0.0.1:{port}/v21.0/me/messages",
                                  json.dumps(send_body()).encode(),
                                  {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"})
            self.assertEqual(result.status, 200, result)
            wrong = http_request("POST", f"http://127.0.0.1:{port}/v21.0/me/messages",
                                 json.dumps(send_body()).encode(),
                                 {"Content-Type": "application/json", "Authorization": "Bearer wrong"})
            self.assertEqual(wrong.status, 401)
        finally:
            process.terminate()
            output, _ = process.communicate(timeout=10)
        self.assertEqual(process.returncode, 0, output)
        self.assertIn(f"http://127.0.0.1:{port}", output)


if __name__ == "__main__":
    unittest.main()
