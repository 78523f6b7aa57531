"""What a third party does with an installed Switchboard, end to end: install the build into a
temporary prefix, build and test the example plugin and a freshly scaffolded one out of tree
against that prefix alone, then run the installed service with the example loaded, post a
webhook and see the echo arrive. Run by ctest (test `install_and_external_plugins`)."""

from __future__ import annotations

import http.server
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.request
from pathlib import Path

SOURCE_DIR = Path(os.environ.get("SWITCHBOARD_SOURCE_DIR", Path(__file__).resolve().parents[2]))
BUILD_DIR = Path(os.environ.get("SWITCHBOARD_BUILD_DIR", SOURCE_DIR / "build"))
DEADLINE_S = 20.0


def run(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=900, **kwargs)
    if result.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, args))} exited {result.returncode}\n"
                             f"--- stdout\n{result.stdout[-4000:]}\n--- stderr\n{result.stderr[-4000:]}")
    return result


def build_out_of_tree(source: Path, build: Path, prefix: Path) -> None:
    """Configures, builds and tests a plugin project with only the installed package visible."""
    run(["cmake", "-S", source, "-B", build, "-G", "Ninja", f"-DCMAKE_PREFIX_PATH={prefix}",
         "-DCMAKE_BUILD_TYPE=RelWithDebInfo"])
    run(["cmake", "--build", build, "--parallel", str(os.cpu_count() or 2)])
    run(["ctest", "--test-dir", build, "--output-on-failure"])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, what: str, timeout: float = DEADLINE_S):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class ReplyReceiver(http.server.ThreadingHTTPServer):
    """Stands in for the echo channel's provider: records what is POSTed to reply_url."""

    def __init__(self) -> None:
        self.received: list[dict] = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(handler) -> None:  # noqa: N805
                length = int(handler.headers.get("Content-Length", "0"))
                body = json.loads(handler.rfile.read(length) or b"{}")
                body["_idempotency_key"] = handler.headers.get("Idempotency-Key")
                self.received.append(body)
                data = json.dumps({"id": f"out-{len(self.received)}"}).encode()
                handler.send_response(200)
                handler.send_header("Content-Type", "application/json")
                handler.send_header("Content-Length", str(len(data)))
                handler.end_headers()
                handler.wfile.write(data)

            def log_message(handler, *args) -> None:  # noqa: N805
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/reply"


class InstalledDaemon:
    """The installed `switchboard run` on `config`, listening on `port`; stopped (and required to
    exit 0) when the with-block ends. Entering yields the base URL."""

    def __init__(self, switchboard: Path, config: Path, port: int, log: Path) -> None:
        self.args = [switchboard, "run", "--config", config]
        self.port = port
        self.log_path = log

    def __enter__(self) -> str:
        self.log = open(self.log_path, "wb")
        self.process = subprocess.Popen(self.args, stdout=self.log, stderr=self.log, cwd=self.log_path.parent)
        base = f"http://127.0.0.1:{self.port}"

        def healthy() -> bool:
            try:
                return urllib.request.urlopen(base + "/healthz", timeout=1).status == 200
            except OSError:
                return False

        wait_until(healthy, "the installed service to listen")
        return base

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        code = self.process.wait(timeout=15)
        self.log.close()
        if code != 0:
            raise AssertionError(f"the installed service exited {code}:\n{self.log_path.read_text()}")


class InstalledSdkTest(unittest.TestCase):
    def installed_daemon(self, config: Path, port: int, name: str) -> InstalledDaemon:
        return InstalledDaemon(self.switchboard, config, port, self.tmp / f"{name}.log")

    @classmethod
    def setUpClass(cls) -> None:
        if not (BUILD_DIR / "CMakeCache.txt").exists():
            raise unittest.SkipTest(f"no build in {BUILD_DIR}")
        cls.tmp = Path(tempfile.mkdtemp(prefix="sb-install-"))
        cls.prefix = cls.tmp / "prefix"
        run(["cmake", "--install", BUILD_DIR, "--prefix", cls.prefix])
        cls.switchboard = cls.prefix / "bin" / "switchboard"
        cls.plugin_dir = cls.prefix / "lib" / "switchboard" / "plugins"

    @classmethod
    def tearDownClass(cls) -> None:
        if os.environ.get("SWITCHBOARD_TEST_KEEP"):
            print(f"[kept {cls.tmp}]")
        else:
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_1_the_package_has_what_plugin_authors_need(self) -> None:
        for relative in ["include/switchboard/abi.h", "include/switchboard/sdk/plugin.hpp",
                         "include/switchboard/sdk/testing.hpp", "lib/cmake/Switchboard/SwitchboardConfig.cmake",
                         "lib/switchboard/plugins/switchboard-messenger.so", "etc/switchboard/switchboard.yaml",
                         "share/doc/switchboard/writing-plugins.md", "lib/systemd/system/switchboard.service"]:
            self.assertTrue((self.prefix / relative).exists(), relative)
        # The installed docs speak of the installed layout: no pointers into the source tree, and
        # the ABI 1.x export name only where they say such plugins are refused.
        docs = self.prefix / "share" / "doc" / "switchboard"
        for name in ["README.md", "writing-plugins.md", "abi-policy.md"]:
            text = (docs / name).read_text(encoding="utf-8")
            self.assertNotIn("../shared/DESIGN.md", text, name)
            for sentence in re.split(r"(?<=[.!?])\s+", " ".join(text.split())):
                if "switchboard_plugin_v1" in sentence:
                    self.assertIn("refuse", sentence, f"{name}: {sentence}")
        self.assertIn("etc/switchboard/switchboard.yaml", (docs / "writing-plugins.md").read_text(encoding="utf-8"))

    def test_2_the_example_builds_tests_installs_and_echoes(self) -> None:
        example = self.tmp / "echo-build"
        build_out_of_tree(SOURCE_DIR / "sdk" / "examples" / "channel-echo", example, self.prefix)
        run(["cmake", "--install", example, "--prefix", self.prefix])
        plugin = self.plugin_dir / "switchboard-echo.so"
        self.assertTrue(plugin.exists())

        inspected = json.loads(run([self.switchboard, "plugins", "inspect", plugin, "--json"]).stdout)
        self.assertEqual(inspected["name"], "echo")
        self.assertIn("channel", inspected["capabilities"])

        receiver = ReplyReceiver()
        try:
            port = free_port()
            config = self.tmp / "echo.yaml"
            config.write_text(
                "server: { listen: \"127.0.0.1:%d\" }\n"
                "storage: { url: \"sqlite:%s\" }\n"
                "plugins: { paths: [] }\n"
                "delivery: { backoff_initial: 50ms, backoff_max: 500ms }\n"
                "tenants:\n"
                "  shop:\n"
                "    plugins:\n"
                "      echo: { shared_secret: \"echo-secret-123\", reply_url: \"%s\" }\n"
                "    routes:\n"
                "      - on: message.received\n"
                "        run: [ echo.reply ]\n" % (port, self.tmp / "echo.db", receiver.url))
            run([self.switchboard, "check-config", "--config", config])
            with self.installed_daemon(config, port, "echo") as base:
                body = json.dumps({"id": "msg-1", "from": "customer-7", "text": "hi there"}).encode()
                request = urllib.request.Request(base + "/webhooks/echo/shop", data=body, method="POST",
                                                 headers={"Content-Type": "application/json",
                                                          "X-Echo-Secret": "echo-secret-123"})
                self.assertEqual(urllib.request.urlopen(request, timeout=5).status, 200)
                echoed = wait_until(lambda: receiver.received, "the echo to reach reply_url")
                self.assertEqual(echoed[0]["to"], "customer-7")
                self.assertEqual(echoed[0]["text"], "echo: hi there")
                self.assertTrue(echoed[0]["_idempotency_key"])
        finally:
            receiver.shutdown()

    def test_3_a_scaffolded_plugin_builds_and_passes_its_tests(self) -> None:
        project = self.tmp / "acme-chat"
        out = run([self.switchboard, "plugins", "new", "--kind", "channel", "acme-chat", project]).stdout
        self.assertIn("CMakeLists.txt", out)
        build_out_of_tree(project, self.tmp / "acme-build", self.prefix)
        built = self.tmp / "acme-build" / "plugins" / "switchboard-acme-chat.so"
        inspected = json.loads(run([self.switchboard, "plugins", "inspect", built, "--json"]).stdout)
        self.assertEqual(inspected["name"], "acme-chat")
        refused = subprocess.run([self.switchboard, "plugins", "new", "acme-chat", project], capture_output=True,
                                 text=True)
        self.assertEqual(refused.returncode, 1)
        self.assertIn("already exists", refused.stderr)

        # Installed into the found Switchboard's plugin directory, it loads in the installed daemon
        # and uses the call context (idempotency key), a list setting (escalation_keywords), kv
        # increment (daily_send_limit) and its declared commands.
        run(["cmake", "--install", self.tmp / "acme-build"])
        self.assertTrue((self.plugin_dir / "switchboard-acme-chat.so").exists())
        installed = json.loads(run([self.switchboard, "plugins", "inspect",
                                    self.plugin_dir / "switchboard-acme-chat.so", "--json"]).stdout)
        self.assertEqual(installed["commands"], ["message.send", "acme-chat.typing"])
        self.assertIn({"name": "escalation_keywords", "type": "list"},
                      [{"name": x["name"], "type": x["type"]} for x in installed["settings"]])
        provider = ReplyReceiver()
        try:
            port = free_port()
            database = self.tmp / "acme.db"
            config = self.tmp / "acme.yaml"
            config.write_text(
                "server: { listen: \"127.0.0.1:%d\" }\n"
                "storage: { url: \"sqlite:%s\" }\n"
                "plugins: { paths: [] }\n"
                "tenants:\n"
                "  shop:\n"
                "    plugins:\n"
                "      acme-chat:\n"
                "        webhook_secret: acme-secret-123\n"
                "        send_url: \"%s\"\n"
                "        daily_send_limit: 100\n"
                "        escalation_keywords: [refund, manager]\n"
                "      templates: { locale: en }\n"
                "    routes:\n"
                "      - on: message.received\n"
                "        run: [ { stage: acme-chat.triage, with: { reason: asked for a refund } }, templates.reply ]\n"
                % (port, database, provider.url))
            run([self.switchboard, "check-config", "--config", config])
            with self.installed_daemon(config, port, "acme") as base:
                body = json.dumps({"id": "m-1", "from": "customer-9", "text": "I want a refund"}).encode()
                request = urllib.request.Request(base + "/webhooks/acme-chat/shop", data=body, method="POST",
                                                 headers={"Content-Type": "application/json",
                                                          "X-Webhook-Secret": "acme-secret-123"})
                self.assertEqual(urllib.request.urlopen(request, timeout=5).status, 200)
                sent = wait_until(lambda: provider.received, "the reply to reach send_url")
                self.assertEqual(sent[0]["to"], "customer-9")
                self.assertRegex(sent[0]["_idempotency_key"], r"^[0-9a-f]{32}$")  # from the call context
            db = sqlite3.connect(database)
            try:
                reasons = [json.loads(r[0])["reason"] for r in
                           db.execute("SELECT payload FROM events WHERE type = 'conversation.escalated'")]
                self.assertEqual(reasons, ["asked for a refund"])
                counters = db.execute("SELECT v FROM kv WHERE plugin = 'acme-chat' AND k LIKE 'sent:%'").fetchall()
                self.assertEqual(counters, [("1",)])
            finally:
                db.close()
        finally:
            provider.shutdown()


if __name__ == "__main__":
    unittest.main()
