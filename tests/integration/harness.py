"""Integration-test harness: runs the real `switchboard` daemon over loopback against the
provider emulator, with a fresh database per daemon (SQLite file, or a new PostgreSQL database
when SWITCHBOARD_TEST_DATABASE_URL is set by with-postgresql.sh).

Environment (set by ctest, see tests/CMakeLists.txt):
  SWITCHBOARD_BIN              the daemon binary
  SWITCHBOARD_PLUGIN_DIR       built plugins
  SWITCHBOARD_TEST_PLUGIN_DIR  fixture plugins (switchboard-stale.so, switchboard-future.so)
  SWITCHBOARD_SOURCE_DIR       repository root (shared fixtures: <root>/../shared/fixtures)
  SWITCHBOARD_TEST_DATABASE_URL  postgresql://postgres@127.0.0.1:<port>/postgres (optional)
  SWITCHBOARD_TEST_KEEP=1      keep temp dirs (configs, logs, SQLite files) for debugging

Nothing here sleeps to wait for work: every wait polls a condition against a deadline.
Python 3 standard library only.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import http.client
import itertools
import json
import os
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse
from pathlib import Path
from typing import Any, Callable

HERE = Path(__file__).resolve().parent
TESTS_DIR = HERE.parent
SOURCE_DIR = Path(os.environ.get("SWITCHBOARD_SOURCE_DIR") or TESTS_DIR.parent).resolve()
FIXTURES_DIR = SOURCE_DIR / "tests" / "fixtures" / "integration"
SHARED_FIXTURES_DIR = (SOURCE_DIR.parent / "shared" / "fixtures").resolve()

sys.path.insert(0, str(TESTS_DIR / "emulator"))
from provider_emulator import GraphProvider, ProviderEmulator  # noqa: E402
from provider_emulator import graph_error as graph_error_body  # noqa: E402,F401

POSTGRES_ADMIN_URL = os.environ.get("SWITCHBOARD_TEST_DATABASE_URL") or None
KEEP_TEMP = os.environ.get("SWITCHBOARD_TEST_KEEP") == "1"

# Polling interval: short for SQLite (an in-process read), longer for PostgreSQL where every
# query spawns psql and the machine has two cores.
POLL_INTERVAL = 0.1 if POSTGRES_ADMIN_URL else 0.02
DEFAULT_TIMEOUT = 20.0


# ---------------------------------------------------------------------------------------------
# Small utilities
# ---------------------------------------------------------------------------------------------

def now_ms() -> int:
    return int(time.time() * 1000)


def free_port() -> int:
    """A port the kernel just handed out on 127.0.0.1 (closed again; the daemon binds it next)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class WaitTimeout(AssertionError):
    pass


def wait_until(predicate: Callable[[], Any], timeout: float = DEFAULT_TIMEOUT, *,
               interval: float | None = None, message: str | Callable[[], str] = "condition") -> Any:
    """Polls predicate() until it returns a truthy value, which is returned. Raises WaitTimeout
    (an AssertionError) after `timeout` seconds, with `message` and the last value."""
    deadline = time.monotonic() + timeout
    step = POLL_INTERVAL if interval is None else interval
    last: Any = None
    while True:
        last = predicate()
        if last:
            return last
        if time.monotonic() >= deadline:
            text = message() if callable(message) else message
            raise WaitTimeout(f"timed out after {timeout:.1f}s waiting for {text}; last value: {last!r}")
        time.sleep(step)


_unique = itertools.count(1)


def unique_id(prefix: str = "") -> str:
    """A numeric-looking id unique within this test run (PSIDs, IGSIDs are digit strings)."""
    return f"{prefix}{int(time.time() * 1000) % 10**10:010d}{next(_unique):05d}{secrets.randbelow(1000):03d}"


def sign(secret: str, body: bytes) -> str:
    """X-Hub-Signature-256 value: "sha256=" + lowercase hex HMAC-SHA256 of the exact body bytes."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def meta_json(obj: Any) -> bytes:
    """Serializes the way Meta does: compact, non-ASCII as \\uXXXX escapes (lowercase hex)."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=True).encode("ascii")


class HttpResult:
    def __init__(self, status: int, headers: dict[str, str], body: bytes):
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.body)

    def __repr__(self) -> str:
        return f"<HTTP {self.status} {self.text[:200]!r}>"


def http_request(method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None,
                 timeout: float = 15.0) -> HttpResult:
    """One request on a fresh connection; returns every status (no exception for 4xx/5xx)."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        conn.request(method, target, body=body, headers=dict(headers or {}))
        response = conn.getresponse()
        data = response.read()
        return HttpResult(response.status, {k.lower(): v for k, v in response.getheaders()}, data)
    finally:
        conn.close()


# ---------------------------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------------------------

def load_fixture(relative: str) -> Any:
    """A JSON fixture from tests/fixtures/integration/ (always present)."""
    with open(FIXTURES_DIR / relative, encoding="utf-8") as f:
        return json.load(f)


def have_shared_fixtures() -> bool:
    return (SHARED_FIXTURES_DIR / "messenger").is_dir()


def meta_body(fixture: str | dict, *, account_id: str, contact_id: str, mid: str | None = None,
              text: str | None = None, timestamp_ms: int | None = None, watermark_ms: int | None = None,
              mids: list[str] | None = None) -> dict:
    """Rewrites a Messenger/Instagram webhook body for one tenant and one customer.

    account_id: page id / Instagram account id (entry[].id and the business side of each event);
    contact_id: PSID / IGSID (the customer side; for echoes the recipient); mid: new message id
    (default: unique, so replays are deliberate); text: new message text; timestamp_ms: every
    time/timestamp (default: now); watermark_ms / mids: for delivery and read receipts.
    """
    body = copy.deepcopy(load_fixture(fixture) if isinstance(fixture, str) else fixture)
    stamp = now_ms() if timestamp_ms is None else timestamp_ms
    for entry in body.get("entry", []):
        entry["id"] = account_id
        if "time" in entry:
            entry["time"] = stamp
        for key in ("messaging", "standby"):
            for event in entry.get(key, []):
                message = event.get("message")
                echo = isinstance(message, dict) and message.get("is_echo")
                event["sender"] = {"id": account_id if echo else contact_id}
                event["recipient"] = {"id": contact_id if echo else account_id}
                event["timestamp"] = stamp
                if isinstance(message, dict):
                    if "mid" in message:
                        message["mid"] = mid if mid is not None else "m_" + unique_id()
                    if text is not None:
                        message["text"] = text
                for receipt in ("delivery", "read"):
                    if receipt in event:
                        if watermark_ms is not None:
                            event[receipt]["watermark"] = watermark_ms
                        if receipt == "delivery":
                            if mids is not None:
                                event[receipt]["mids"] = list(mids)
                            elif "mids" in event[receipt]:
                                del event[receipt]["mids"]
        for change in entry.get("changes", []):
            value = change.get("value")
            if isinstance(value, dict) and "post_id" in value:
                value["post_id"] = f"{account_id}_{value['post_id'].split('_')[-1]}"
    return body


def batch(*bodies: dict) -> dict:
    """One webhook body carrying the entries of several (Meta batches notifications this way)."""
    merged = copy.deepcopy(bodies[0])
    for body in bodies[1:]:
        merged["entry"].extend(copy.deepcopy(body["entry"]))
    return merged


# ---------------------------------------------------------------------------------------------
# Databases
# ---------------------------------------------------------------------------------------------

def sql_quote(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


class SqliteDatabase:
    """A fresh SQLite file in a temp dir; read with Python's sqlite3 (the daemon runs WAL)."""

    backend = "sqlite"

    def __init__(self, directory: Path):
        self.path = Path(directory) / "switchboard.db"
        self.url = f"sqlite:{self.path}"

    def query(self, sql: str) -> list[tuple]:
        """Rows as tuples of str (None for NULL); numbers come back as their decimal text."""
        if not self.path.exists():
            raise RuntimeError(f"database {self.path} does not exist (daemon not started?)")
        conn = sqlite3.connect(str(self.path), timeout=10)
        try:
            rows = conn.execute(sql).fetchall()
        finally:
            conn.close()
        return [tuple(None if v is None else (v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v))
                      for v in row) for row in rows]

    def drop(self) -> None:
        pass


class PostgresDatabase:
    """A fresh database (sb_<random>) in the cluster with-postgresql.sh started; read with psql."""

    backend = "postgresql"
    _FIELD, _RECORD, _NULL = "\x1f", "\x1e", "\x1d"

    def __init__(self, admin_url: str):
        self.admin_url = admin_url
        self.name = "sb_" + secrets.token_hex(6)
        self._psql(admin_url, f"CREATE DATABASE {self.name}")
        parts = urllib.parse.urlsplit(admin_url)
        self.url = urllib.parse.urlunsplit((parts.scheme, parts.netloc, "/" + self.name, parts.query, ""))

    @classmethod
    def _psql(cls, url: str, sql: str) -> str:
        result = subprocess.run(
            ["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-F", cls._FIELD, "-R", cls._RECORD,
             "-P", f"null={cls._NULL}", "-d", url, "-c", sql],
            capture_output=True, text=True, timeout=60)
        if result.returncode != 0:
            raise RuntimeError(f"psql failed ({result.returncode}) for {sql!r}: {result.stderr.strip()}")
        return result.stdout

    def query(self, sql: str) -> list[tuple]:
        out = self._psql(self.url, sql)
        if out.endswith("\n"):
            out = out[:-1]
        if not out:
            return []
        return [tuple(None if v == self._NULL else v for v in record.split(self._FIELD))
                for record in out.split(self._RECORD) if record != ""]

    def drop(self) -> None:
        try:
            self._psql(self.admin_url, f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")
        except (RuntimeError, subprocess.TimeoutExpired):
            pass  # the whole cluster is thrown away at the end anyway


def fresh_database(directory: Path) -> SqliteDatabase | PostgresDatabase:
    return PostgresDatabase(POSTGRES_ADMIN_URL) if POSTGRES_ADMIN_URL else SqliteDatabase(directory)


# ---------------------------------------------------------------------------------------------
# Configuration
# ---------------------------------------------------------------------------------------------

def _yaml_scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(str(value), ensure_ascii=False)  # a JSON string is a YAML double-quoted scalar


def to_yaml(value: Any, indent: int = 0) -> str:
    """Block-style YAML for nested dicts/lists of scalars (lists of scalars in flow style)."""
    pad = " " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, dict):
                if item:
                    lines.append(f"{pad}{key}:")
                    lines.append(to_yaml(item, indent + 2))
                else:
                    lines.append(f"{pad}{key}: {{}}")
            elif isinstance(item, list) and any(isinstance(x, (dict, list)) for x in item):
                lines.append(f"{pad}{key}:")
                lines.append(to_yaml(item, indent + 2))
            elif isinstance(item, list):
                lines.append(f"{pad}{key}: [" + ", ".join(_yaml_scalar(x) for x in item) + "]")
            else:
                lines.append(f"{pad}{key}: {_yaml_scalar(item)}")
    elif isinstance(value, list):
        for item in value:
            inner = to_yaml(item, indent + 2).lstrip(" ")
            lines.append(f"{pad}- {inner}")
    else:
        lines.append(pad + _yaml_scalar(value))
    return "\n".join(lines)


class Tenant:
    """Credentials of one test tenant (ids look like Meta's: digit strings)."""

    def __init__(self, name: str, index: int):
        self.name = name
        self.page_id = f"10402000000{index:04d}"
        self.ig_account_id = f"178414000000{index:05d}"
        self.app_secret = f"{name}-app-secret-{secrets.token_hex(8)}"
        self.ig_app_secret = f"{name}-ig-app-secret-{secrets.token_hex(8)}"
        self.verify_token = f"{name}-verify-{secrets.token_hex(6)}"
        self.page_token = f"EAAG{name.upper()}PAGE{secrets.token_hex(12)}"
        self.ig_token = f"IGAA{name.upper()}IG{secrets.token_hex(12)}"

    def secret_for(self, plugin: str) -> str:
        return self.ig_app_secret if plugin == "instagram" else self.app_secret

    def account_for(self, plugin: str) -> str:
        return self.ig_account_id if plugin == "instagram" else self.page_id

    def token_for(self, plugin: str) -> str:
        return self.ig_token if plugin == "instagram" else self.page_token

    def secrets(self) -> list[str]:
        return [self.app_secret, self.ig_app_secret, self.verify_token, self.page_token, self.ig_token]


DEFAULT_DELIVERY = {
    "workers": 2,
    "max_attempts": 4,
    "backoff_initial": "20ms",
    "backoff_max": "200ms",
    "http_timeout": "2s",
    "lease": "5s",
    "echo_grace": "1s",
}


def build_config(*, listen: str, storage_url: str, plugin_dirs: list[str], graph_api_base: str,
                 tenants: list[Tenant], delivery: dict | None = None, server: dict | None = None,
                 messenger_overrides: dict | None = None, instagram_overrides: dict | None = None,
                 messaging_window: str = "24h", send_timeout: str = "1s") -> dict:
    """The daemon configuration as a dict (rendered with to_yaml). Tenant 0 gets Messenger,
    Instagram and templates; further tenants get Messenger and templates."""
    config: dict[str, Any] = {
        "server": {"listen": listen, "max_body_bytes": 65536, "header_timeout": "5s", "idle_timeout": "30s",
                   **(server or {})},
        "storage": {"url": storage_url},
        "plugins": {"paths": plugin_dirs},
        "delivery": {**DEFAULT_DELIVERY, **(delivery or {})},
        "tenants": {},
    }
    for index, tenant in enumerate(tenants):
        plugins: dict[str, Any] = {
            "messenger": {
                "app_secret": tenant.app_secret,
                "verify_token": tenant.verify_token,
                "page_access_token": tenant.page_token,
                "page_id": tenant.page_id,
                "graph_api_base": graph_api_base,
                "messaging_window": messaging_window,
                "send_timeout": send_timeout,
                **(messenger_overrides or {}),
            },
        }
        if index == 0:
            plugins["instagram"] = {
                "app_secret": tenant.ig_app_secret,
                "verify_token": tenant.verify_token,
                "page_access_token": tenant.ig_token,
                "account_id": tenant.ig_account_id,
                "graph_api_base": graph_api_base,
                **(instagram_overrides or {}),
            }
        plugins["templates"] = {"locale": "en"}
        config["tenants"][tenant.name] = {
            "plugins": plugins,
            "routes": [{"on": "message.received", "run": ["templates.reply"]}],
        }
    return config


# ---------------------------------------------------------------------------------------------
# Daemon
# ---------------------------------------------------------------------------------------------

def switchboard_bin() -> str | None:
    path = os.environ.get("SWITCHBOARD_BIN")
    return path if path else None


def plugin_dir() -> str:
    return os.environ.get("SWITCHBOARD_PLUGIN_DIR") or str(SOURCE_DIR / "build" / "plugins")


def daemon_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for daemon and CLI runs: ours, minus variables the shipped config reads,
    so that only what the test writes in its config matters."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("FACEBOOK_", "INSTAGRAM_", "SWITCHBOARD_LISTEN", "SWITCHBOARD_DATABASE_URL"))}
    env.update(extra or {})
    return env


def run_cli(args: list[str], *, env: dict[str, str] | None = None, cwd: str | None = None,
            timeout: float = 30.0) -> subprocess.CompletedProcess:
    binary = switchboard_bin()
    assert binary, "SWITCHBOARD_BIN is not set"
    return subprocess.run([binary, *args], capture_output=True, text=True, timeout=timeout,
                          env=env if env is not None else daemon_env(), cwd=cwd)


class Daemon:
    """One `switchboard run` process with its config file and log."""

    def __init__(self, workdir: Path, config: dict, name: str = "daemon"):
        self.workdir = Path(workdir)
        self.config = config
        self.name = name
        self.process: subprocess.Popen | None = None
        self.log_path = self.workdir / f"{name}.log"
        self.config_path = self.workdir / f"{name}.yaml"
        self._log_file = None
        self.port = 0
        self.preexec: Callable[[], None] | None = None  # runs in the child before exec (resource limits)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def start(self, timeout: float = 20.0) -> "Daemon":
        binary = switchboard_bin()
        assert binary and os.path.exists(binary), f"SWITCHBOARD_BIN={binary!r} does not exist"
        for attempt in range(3):
            self.port = free_port()
            self.config["server"]["listen"] = f"127.0.0.1:{self.port}"
            self.config_path.write_text(to_yaml(self.config) + "\n", encoding="utf-8")
            self._log_file = open(self.log_path, "ab")
            self._log_file.write(f"==== start {attempt + 1} on port {self.port}\n".encode())
            self._log_file.flush()
            self.process = subprocess.Popen(
                [binary, "run", "--config", str(self.config_path)],
                stdout=self._log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                cwd=str(self.workdir), env=daemon_env(), preexec_fn=self.preexec)
            try:
                wait_until(self._ready_or_exited, timeout, interval=0.02,
                           message=lambda: f"{self.name} to answer GET /healthz\n{self.log_tail()}")
            except WaitTimeout:
                self.kill()
                raise
            if self.process.poll() is None:
                return self
            self._close_log()
            log = self.log_tail()
            if "in use" not in log.lower():
                raise AssertionError(f"{self.name} exited with status {self.process.returncode} "
                                     f"before becoming ready:\n{log}")
        raise AssertionError(f"{self.name} could not bind a free port:\n{self.log_tail()}")

    def _ready_or_exited(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            return True
        try:
            return http_request("GET", self.url("/healthz"), timeout=2).status == 200
        except OSError:
            return False

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def send_signal(self, signum: int) -> None:
        assert self.process is not None
        self.process.send_signal(signum)

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        """Sends `signum` and waits for exit; returns the exit status (killed after `timeout`)."""
        if self.process is None:
            return 0
        if self.process.poll() is None:
            self.process.send_signal(signum)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                self._close_log()
                raise AssertionError(f"{self.name} did not exit within {timeout}s of signal {signum}:\n"
                                     f"{self.log_tail()}")
        self._close_log()
        return self.process.returncode

    def kill(self) -> None:
        """SIGKILL: the crash case (nothing gets a chance to clean up)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._close_log()

    def _close_log(self) -> None:
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def log(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 60) -> str:
        text = self.log().splitlines()
        return f"---- {self.log_path} (last {min(lines, len(text))} lines) ----\n" + "\n".join(text[-lines:])


# ---------------------------------------------------------------------------------------------
# Test case base
# ---------------------------------------------------------------------------------------------

class DaemonTestCase(unittest.TestCase):
    """Per test: a provider emulator, two tenants ("demo" with Messenger + Instagram, "other"
    with Messenger), a fresh database and (after start_daemon()) a daemon."""

    maxDiff = None
    start_automatically = True  # start a daemon with the default config in setUp

    def setUp(self) -> None:
        if not switchboard_bin():
            self.skipTest("SWITCHBOARD_BIN is not set (run through ctest, or export it)")
        self.tmp = Path(tempfile.mkdtemp(prefix=f"sb-{self._testMethodName[:40]}-"))
        self.demo = Tenant("demo", 1)
        self.other = Tenant("other", 2)
        self.tenants = [self.demo, self.other]
        # Each token's "/me" is the tenant's page or Instagram account, as at Meta: the Conversations
        # API then shows our sends as coming from that account.
        self.graph = GraphProvider(access_tokens={t.token_for(p) for t in self.tenants
                                                  for p in ("messenger", "instagram")},
                                   accounts={t.token_for(p): t.account_for(p) for t in self.tenants
                                             for p in ("messenger", "instagram")})
        self.emulator = ProviderEmulator(providers=[self.graph]).start()
        self.db = fresh_database(self.tmp)
        self.daemons: list[Daemon] = []
        self.daemon: Daemon | None = None
        if self.start_automatically:
            self.start_daemon()

    def tearDown(self) -> None:
        failed = self._failed()
        for daemon in self.daemons:
            try:
                daemon.stop(timeout=10)
            except AssertionError as exc:
                sys.stderr.write(f"\n{exc}\n")
            if failed:
                sys.stderr.write(f"\n{daemon.log_tail(80)}\n")
        self.emulator.stop()
        self.db.drop()
        if KEEP_TEMP or failed:
            sys.stderr.write(f"\n[kept {self.tmp}]\n")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def _failed(self) -> bool:
        outcome = getattr(self, "_outcome", None)
        if outcome is None:
            return False
        if hasattr(outcome, "errors"):  # Python <= 3.10 collects them on the outcome
            return any(exc for _, exc in outcome.errors)
        # Python >= 3.11 reports to the result at once (subtests as _SubTest objects).
        result = outcome.result
        reported = list(getattr(result, "failures", [])) + list(getattr(result, "errors", []))
        return any(test is self or getattr(test, "test_case", None) is self for test, _ in reported)

    # ---- daemons ----------------------------------------------------------------------------
    def make_config(self, **overrides: Any) -> dict:
        return build_config(listen="127.0.0.1:0", storage_url=self.db.url, plugin_dirs=[plugin_dir()],
                            graph_api_base=self.emulator.url + "/v21.0", tenants=self.tenants, **overrides)

    def start_daemon(self, config: dict | None = None, **overrides: Any) -> Daemon:
        daemon = Daemon(self.tmp, config if config is not None else self.make_config(**overrides),
                        name=f"daemon{len(self.daemons) + 1}")
        self.daemons.append(daemon)
        daemon.start()
        self.daemon = daemon
        return daemon

    def restart_daemon(self) -> Daemon:
        """A new daemon process on the same config and database."""
        assert self.daemon is not None
        return self.start_daemon(copy.deepcopy(self.daemon.config))

    # ---- webhooks ---------------------------------------------------------------------------
    def post_webhook(self, plugin: str, body: dict | bytes, *, tenant: Tenant | None = None,
                     by_payload: bool = False, secret: str | None = None, signature: str | None = None,
                     headers: dict[str, str] | None = None) -> HttpResult:
        """Signs the exact bytes sent with the tenant's app secret and POSTs them to
        /webhooks/{plugin}/{tenant} (or /webhooks/{plugin} with by_payload)."""
        tenant = tenant or self.demo
        raw = body if isinstance(body, bytes) else meta_json(body)
        path = f"/webhooks/{plugin}" if by_payload else f"/webhooks/{plugin}/{tenant.name}"
        all_headers = {"Content-Type": "application/json"}
        sig = signature if signature is not None else sign(secret or tenant.secret_for(plugin), raw)
        if sig:
            all_headers["X-Hub-Signature-256"] = sig
        all_headers.update(headers or {})
        assert self.daemon is not None
        return http_request("POST", self.daemon.url(path), raw, all_headers)

    def send_text(self, plugin: str = "messenger", *, tenant: Tenant | None = None, contact: str | None = None,
                  text: str = "Hello there", mid: str | None = None, timestamp_ms: int | None = None,
                  by_payload: bool = False, expect_status: int = 200) -> tuple[str, str, HttpResult]:
        """Posts a customer text; returns (contact id, mid, response). Asserts the status."""
        tenant = tenant or self.demo
        contact = contact or unique_id()
        mid = mid or ("m_" + unique_id())
        body = meta_body(f"{plugin}/text.json", account_id=tenant.account_for(plugin), contact_id=contact,
                         mid=mid, text=text, timestamp_ms=timestamp_ms)
        result = self.post_webhook(plugin, body, tenant=tenant, by_payload=by_payload)
        self.assertEqual(result.status, expect_status, f"POST webhook answered {result!r}")
        return contact, mid, result

    # ---- waiting and asserting --------------------------------------------------------------
    def crash_after_accepted_send(self, plugin: str, *, echo_grace: str = "4s") -> tuple[str, dict]:
        """The provider accepts a reply but its answer never arrives, and the daemon is killed:
        the outcome is unknown to the daemon. Returns (contact, the accepted request)."""
        self.start_daemon(delivery={"lease": "2s", "echo_grace": echo_grace})
        self.graph.fail(hang_seconds=60, process=True, count=None)
        contact, _, _ = self.send_text(plugin, text="where is my order?")
        accepted = self.wait(lambda: self.replies_to(contact), "the provider to accept the reply")[0]
        self.daemon.kill()
        self.graph.clear_faults()
        return contact, accepted

    def wait_provider_quiet(self, quiet_for: float = 0.3, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Waits until the emulator has recorded no new request for `quiet_for` seconds: after a
        kill, a request the dead process wrote may still be read and answered by the emulator a
        moment later, and a fault cleared before that would let it through."""
        last = [len(self.graph.requests()), time.monotonic()]

        def quiet() -> bool:
            n = len(self.graph.requests())
            if n != last[0]:
                last[0], last[1] = n, time.monotonic()
            return time.monotonic() - last[1] >= quiet_for

        wait_until(quiet, timeout, interval=0.05, message=lambda: "the provider emulator to go quiet")

    def wait(self, predicate: Callable[[], Any], what: str, timeout: float = DEFAULT_TIMEOUT) -> Any:
        return wait_until(predicate, timeout,
                          message=lambda: f"{what}\n{self.daemon.log_tail(40) if self.daemon else ''}")

    def replies_to(self, contact: str) -> list[dict]:
        return self.graph.accepted(recipient=contact)

    def attempts_to(self, contact: str) -> list[dict]:
        return self.graph.requests(recipient=contact)

    def wait_replies(self, contact: str, count: int = 1, timeout: float = DEFAULT_TIMEOUT) -> list[dict]:
        self.wait(lambda: len(self.replies_to(contact)) >= count,
                  f"{count} accepted Send API request(s) to {contact}", timeout)
        return self.replies_to(contact)

    def pending_jobs(self) -> int:
        return int(self.db.query("SELECT count(*) FROM jobs WHERE state IN ('pending', 'running')")[0][0])

    def wait_idle(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Waits until no job is pending or running, so counts of side effects are final."""
        self.wait(lambda: self.pending_jobs() == 0, "every job to reach done or dead", timeout)

    def assert_exactly_one_reply(self, contact: str, token: str | None = None) -> dict:
        self.wait_replies(contact, 1)
        self.wait_idle()
        replies = self.replies_to(contact)
        self.assertEqual(len(replies), 1, f"expected exactly one reply to {contact}, got {replies}")
        reply = replies[0]
        self.assertEqual(reply["messaging_type"], "RESPONSE")
        self.assertTrue(reply.get("text"), f"reply without text: {reply}")
        self.assertEqual(reply["api_version"], "v21.0", "the Send API version comes from graph_api_base")
        if token is not None:
            self.assertEqual(reply["token"], token, "reply sent with another tenant's page access token")
            # In the header, not the URL, where proxies and access logs would record it.
            self.assertEqual(reply["headers"].get("authorization"), f"Bearer {token}")
            self.assertNotIn("access_token", reply["query"])
        return reply

    def assert_no_reply(self, contact: str) -> None:
        self.wait_idle()
        self.assertEqual(self.attempts_to(contact), [], f"unexpected Send API request(s) to {contact}")

    def rows(self, sql: str) -> list[tuple]:
        return self.db.query(sql)

    def scalar(self, sql: str) -> str | None:
        rows = self.db.query(sql)
        return rows[0][0] if rows else None

    def count(self, sql_from_where: str) -> int:
        return int(self.db.query(f"SELECT count(*) FROM {sql_from_where}")[0][0])
