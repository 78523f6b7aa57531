#!/usr/bin/env python3
"""The AI chain's overhead over the model's own latency: for each customer message, the time from
the webhook POST to the reply's Send API request, less the time the model took (the OpenAI and
Anthropic emulators answer after a fixed latency). Three chains on the real daemon, on loopback:

  openai       first_of: [openai.reply, anthropic.reply, templates.reply]; OpenAI answers
  fallthrough  the same chain; OpenAI fails (500) every time, so Anthropic answers
  templates    no keys: the tiers without a key are skipped and the templates answer

Prints p50 / p95 of the overhead (ms) and, for the model chains, how it splits into before the
model request (ingest, routing, history) and after the model's answer (filing, sending).

  SWITCHBOARD_BIN=build/core/switchboard SWITCHBOARD_PLUGIN_DIR=build/plugins \\
    python3 bench/ai_chain_overhead.py [--messages 40] [--model-latency 0.2]

SQLite by default; PostgreSQL with SWITCHBOARD_TEST_DATABASE_URL as the integration tests take it.
Not run by the tests: numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "integration"))
from harness import DaemonTestCase, unique_id  # noqa: E402
from ai_provider import AnthropicProvider, OpenAIProvider  # noqa: E402

OPENAI_KEY, ANTHROPIC_KEY = "sk-bench-openai", "sk-bench-anthropic"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


class Bench(DaemonTestCase):
    start_automatically = False

    def runTest(self) -> None:  # unittest needs one; the bench drives setUp/tearDown itself
        pass

    def start(self, keys: bool, latency: float) -> None:
        self.openai = self.emulator.add(OpenAIProvider(OPENAI_KEY))
        self.anthropic = self.emulator.add(AnthropicProvider(ANTHROPIC_KEY))
        self.openai.latency_s = self.anthropic.latency_s = latency
        config = self.make_config()
        tenant = config["tenants"]["demo"]
        tenant["plugins"]["openai"] = {"api_key": OPENAI_KEY if keys else "",
                                       "base_url": self.emulator.url + "/openai/v1"}
        tenant["plugins"]["anthropic"] = {"api_key": ANTHROPIC_KEY if keys else "",
                                          "base_url": self.emulator.url + "/anthropic"}
        tenant["routes"] = [{"on": "message.received", "run": [{"first_of": [
            {"stage": "openai.reply", "budget": "8s"}, {"stage": "anthropic.reply", "budget": "8s"},
            "templates.reply"]}]}]
        self.start_daemon(config)

    def measure(self, messages: int, latency: float, model: str | None) -> tuple[list[float], list[float], list[float]]:
        totals, before, after = [], [], []
        for n in range(messages):
            contact = unique_id()
            posted = time.time()
            self.send_text(contact=contact, text=f"question {n}")
            reply = self.wait_replies(contact)[0]
            sent_at = reply["time"]
            overhead = sent_at - posted - (latency if model else 0.0)
            totals.append(overhead * 1000)
            if model:
                provider = self.openai if model == "openai" else self.anthropic
                asked = [r for r in provider.accepted() if r.get("messages", [{}])[-1].get("content") == f"question {n}"]
                if asked:
                    before.append((asked[-1]["time"] - posted) * 1000)
                    after.append((sent_at - asked[-1]["time"] - latency) * 1000)
        return totals, before, after


def run(name: str, messages: int, latency: float) -> None:
    bench = Bench()
    bench.setUp()
    try:
        bench.start(keys=name != "templates", latency=latency)
        if name == "fallthrough":
            bench.openai.fail(preset="unavailable", count=None)
        model = {"openai": "openai", "fallthrough": "anthropic"}.get(name)
        bench.measure(3, latency, model)  # warm-up: connections, first plugin calls
        totals, before, after = bench.measure(messages, latency, model)
        line = f"  {name:<12} overhead p50 {percentile(totals, 0.5):7.1f} ms  p95 {percentile(totals, 0.95):7.1f} ms"
        if before:
            line += (f"   (before the model p50 {percentile(before, 0.5):.1f} ms,"
                     f" after its answer p50 {percentile(after, 0.5):.1f} ms)")
        print(line, flush=True)
    finally:
        bench.tearDown()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=40)
    parser.add_argument("--model-latency", type=float, default=0.2, help="seconds each model takes to answer")
    args = parser.parse_args()
    storage = "postgresql" if os.environ.get("SWITCHBOARD_TEST_DATABASE_URL") else "sqlite"
    print(f"storage: {storage}, {args.messages} messages per chain, model latency {args.model_latency * 1000:.0f} ms")
    for name in ("openai", "fallthrough", "templates"):
        run(name, args.messages, args.model_latency)
    return 0


if __name__ == "__main__":
    sys.exit(main())
