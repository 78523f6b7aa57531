"""share/tools/post-sample-webhook.py against the real daemon: the shipped way to try Switchboard."""

from __future__ import annotations

import os
import subprocess
import sys
import unittest

from harness import FIXTURES_DIR, SOURCE_DIR, DaemonTestCase

SCRIPT = SOURCE_DIR / "share" / "tools" / "post-sample-webhook.py"


class SampleScriptTest(DaemonTestCase):
    def run_script(self, *args: str, secret: str | None = None, page_id: str | None = None):
        env = {k: v for k, v in os.environ.items() if not k.startswith("FACEBOOK_")}
        if secret is not None:
            env["FACEBOOK_APP_SECRET"] = secret
        if page_id is not None:
            env["FACEBOOK_PAGE_ID"] = page_id
        return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, env=env,
                              timeout=30)

    def test_built_in_sample_by_page_id_routing(self) -> None:
        result = self.run_script("--url", self.daemon.url("/webhooks/messenger"), "--psid", "5190000000000777",
                                 secret=self.demo.app_secret, page_id=self.demo.page_id)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertEqual(result.stdout.splitlines()[0], "200")
        self.assert_exactly_one_reply("5190000000000777", self.demo.page_token)
        # Each run is a new message (fresh mid), so a second run is answered too.
        self.assertEqual(self.run_script("--url", self.daemon.url("/webhooks/messenger"), "--psid",
                                         "5190000000000777", secret=self.demo.app_secret,
                                         page_id=self.demo.page_id).returncode, 0)
        self.wait_replies("5190000000000777", 2)

    def test_file_with_secret_option(self) -> None:
        result = self.run_script("--url", self.daemon.url("/webhooks/messenger/other"),
                                 "--file", str(FIXTURES_DIR / "messenger" / "text.json"),
                                 "--secret", self.other.app_secret, "--page-id", self.other.page_id,
                                 "--psid", "5190000000000888")
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assert_exactly_one_reply("5190000000000888", self.other.page_token)

    def test_wrong_secret_is_refused(self) -> None:
        result = self.run_script("--url", self.daemon.url("/webhooks/messenger/demo"), secret="wrong",
                                 page_id=self.demo.page_id)
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stdout.splitlines()[0], "401")

    def test_missing_secret_is_a_usage_error(self) -> None:
        result = self.run_script("--url", self.daemon.url("/webhooks/messenger"), page_id=self.demo.page_id)
        self.assertEqual(result.returncode, 2)
        self.assertIn("FACEBOOK_APP_SECRET", result.stderr)


if __name__ == "__main__":
    unittest.main()
