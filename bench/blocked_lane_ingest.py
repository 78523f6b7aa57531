#!/usr/bin/env python3
"""Ingest while one conversation has a backlog: its first reply hangs at the provider, so every
later reply of that conversation waits in its lane. Idle workers must neither spin nor compete
with ingest for the database; every other customer must be served as if nothing were stuck.

Runs the real daemon on loopback against the provider emulator (SQLite, or PostgreSQL with
SWITCHBOARD_TEST_DATABASE_URL as the integration tests take it) and prints: webhooks/s and latency
while the backlog exists, and the daemon's CPU use while it is otherwise idle.

  SWITCHBOARD_BIN=build/core/switchboard SWITCHBOARD_PLUGIN_DIR=build/plugins \\
    python3 bench/blocked_lane_ingest.py [--backlog 200] [--seconds 10] [--senders 8]

Pool sizes: BW (stage workers), RW (reply workers), CW (command workers) in the environment;
unset, the config defaults apply.

Not run by the tests: numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "integration"))
from harness import DaemonTestCase, http_request, meta_body, meta_json, sign, unique_id  # noqa: E402


def cpu_seconds(pid: int) -> float:
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Bench(DaemonTestCase):
    start_automatically = False

    def runTest(self) -> None:  # unittest needs one; the bench drives setUp/tearDown itself
        pass

    def post(self, contact: str, text: str) -> tuple[int, float]:
        body = meta_json(meta_body("messenger/text.json", account_id=self.demo.account_for("messenger"),
                                   contact_id=contact, mid="m_" + unique_id(), text=text))
        headers = {"Content-Type": "application/json",
                   "X-Hub-Signature-256": sign(self.demo.secret_for("messenger"), body)}
        started = time.monotonic()
        try:
            status = http_request("POST", self.daemon.url(f"/webhooks/messenger/{self.demo.name}"), body, headers,
                                  timeout=10).status
        except OSError:
            status = 0
        return status, time.monotonic() - started

    def run_bench(self, backlog: int, seconds: float, senders: int) -> None:
        # The stuck send outlasts the whole run (no timeout, no retry that would drain the backlog).
        self.start_daemon(delivery={"http_timeout": "300s", "lease": "900s",
                                    **{key: int(os.environ[env]) for key, env in
                                       (("workers", "BW"), ("reply_workers", "RW"), ("command_workers", "CW"))
                                       if env in os.environ}})
        # The stuck conversation's first reply never returns (the Send API call hangs).
        self.graph.hang(3600, count=1, path="/v21.0/me/messages")
        stuck = unique_id()
        for i in range(backlog):
            self.post(stuck, "hello")  # a greeting: each one gets a reply, queued behind the stuck one
        self.wait(lambda: self.count("jobs WHERE kind = 'route' AND state = 'done'") >= backlog,
                  "the backlog's route jobs to have run", timeout=120)
        queued = self.count("jobs WHERE kind = 'command' AND state = 'pending'")
        pid = self.daemon.process.pid

        # Idle with a backlog: nothing should run (after the last route job's commit has settled).
        time.sleep(2)
        cpu0, t0 = cpu_seconds(pid), time.monotonic()
        time.sleep(3)
        idle_cpu = (cpu_seconds(pid) - cpu0) / (time.monotonic() - t0)

        latencies: list[float] = []
        failures = 0
        lock = threading.Lock()
        deadline = time.monotonic() + seconds

        def sender() -> None:
            nonlocal failures
            while time.monotonic() < deadline:
                status, took = self.post(unique_id(), "hello")
                with lock:
                    if status == 200:
                        latencies.append(took)
                    else:
                        failures += 1

        threads = [threading.Thread(target=sender) for _ in range(senders)]
        started = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
        latencies.sort()
        p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000 if latencies else float("nan")
        print(f"storage: {'postgresql' if os.environ.get('SWITCHBOARD_TEST_DATABASE_URL') else 'sqlite'}, "
              f"backlog {queued} replies queued in one lane, {senders} senders for {seconds:.0f} s")
        print(f"  idle daemon CPU with the backlog: {idle_cpu * 100:.1f}% of a core")
        print(f"  ingest: {len(latencies) / elapsed:.0f} webhooks/s acknowledged, {failures} failed/timed out")
        print(f"  latency: p50 {p(0.5):.1f} ms, p99 {p(0.99):.1f} ms, max {p(1.0):.1f} ms")
        print(f"  median {statistics.median(latencies) * 1000 if latencies else float('nan'):.1f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backlog", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--senders", type=int, default=8)
    args = parser.parse_args()
    bench = Bench()
    bench.setUp()
    try:
        bench.run_bench(args.backlog, args.seconds, args.senders)
    finally:
        bench.tearDown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
