"""Plugin isolation: a plugin that throws, reports errors or refuses to start for one tenant is
logged with tenant and plugin, counted in /metrics, and every other tenant keeps being served.
Uses the `faulty` fixture plugin (tests/plugins/faulty_plugin.cpp)."""

from __future__ import annotations

import json
import os

from harness import DaemonTestCase, http_request, run_cli, unique_id, wait_until

FIXTURE_PLUGINS = os.environ.get("SWITCHBOARD_TEST_PLUGIN_DIR", "")


class IsolationTest(DaemonTestCase):
    start_automatically = False

    def setUp(self) -> None:
        super().setUp()
        if not FIXTURE_PLUGINS or not os.path.isdir(FIXTURE_PLUGINS):
            self.skipTest("SWITCHBOARD_TEST_PLUGIN_DIR is not set")
        config = self.make_config()
        config["plugins"]["paths"].append(FIXTURE_PLUGINS)
        for tenant, mode in (("good", "ok"), ("thrower", "throw"), ("failing", "error"), ("broken", "refuse_create")):
            config["tenants"][tenant] = {"plugins": {"faulty": {"mode": mode}}}
        self.start_daemon(config)

    def post(self, tenant: str) -> object:
        body = json.dumps({"id": "m_" + unique_id(), "from": unique_id(), "text": "hi"}).encode()
        return http_request("POST", self.daemon.url(f"/webhooks/faulty/{tenant}"), body,
                            {"Content-Type": "application/json"})

    def metric(self, tenant: str) -> float:
        text = http_request("GET", self.daemon.url("/metrics")).text
        prefix = f'switchboard_plugin_errors_total{{tenant="{tenant}",plugin="faulty"}} '
        for line in text.splitlines():
            if line.startswith(prefix):
                return float(line[len(prefix):])
        return 0.0

    def test_a_throwing_plugin_only_fails_its_own_tenant(self) -> None:
        result = self.post("thrower")
        self.assertEqual(result.status, 500, result)
        self.assertNotIn("boom", result.text)  # plugin internals stay in the log
        self.assertEqual(self.post("good").status, 200)
        self.assertEqual(self.metric("thrower"), 1.0)
        self.assertEqual(self.metric("good"), 0.0)
        self.assertIn("[tenant=thrower plugin=faulty] webhook handler failed: boom: faulty plugin threw",
                      self.daemon.log())
        # Nothing of the failed request was stored; the good one was.
        self.assertEqual(self.count("webhook_events WHERE tenant = 'thrower'"), 0)
        self.assertEqual(self.count("webhook_events WHERE tenant = 'good'"), 1)

    def test_a_plugin_error_for_one_tenant_is_counted_and_others_are_served(self) -> None:
        for _ in range(3):
            self.assertEqual(self.post("failing").status, 500)
        self.assertEqual(self.post("good").status, 200)
        self.assertEqual(self.metric("failing"), 3.0)
        self.assertIn("[tenant=failing plugin=faulty] webhook handler failed: faulty plugin reports an error",
                      self.daemon.log())

    def test_an_instance_that_refuses_to_start_does_not_stop_the_service(self) -> None:
        self.assertIn("[tenant=broken plugin=faulty] instance failed to start", self.daemon.log())
        self.assertEqual(self.metric("broken"), 1.0)
        result = self.post("broken")
        self.assertEqual(result.status, 503, result)
        self.assertEqual(self.post("good").status, 200)
        # Other tenants' channels are untouched.
        contact, _, _ = self.send_text("messenger")
        self.wait_replies(contact)

    def test_check_config_reports_the_instance_failure(self) -> None:
        result = run_cli(["check-config", "--config", str(self.daemon.config_path)])
        self.assertEqual(result.returncode, 1, result)
        self.assertIn("plugin 'faulty' refused the settings of tenant 'broken': mode refuse_create", result.stderr)

    def test_a_plugin_whose_entry_point_throws_is_refused(self) -> None:
        result = run_cli(["plugins", "inspect", os.path.join(FIXTURE_PLUGINS, "switchboard-throwing.so")])
        self.assertEqual(result.returncode, 1, result)
        self.assertIn("the plugin's entry point threw: static initialisation failed", result.stderr)
        self.assertTrue(self.daemon.running())
        wait_until(lambda: http_request("GET", self.daemon.url("/healthz")).status == 200, timeout=5)
