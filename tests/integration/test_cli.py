"""The command line: --version, check-config diagnostics (FILE:LINE:COL, did-you-mean, missing
environment variables, secrets never printed), plugins list with ABI refusals, and the shipped
etc/switchboard.yaml."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

from harness import SOURCE_DIR, Tenant, build_config, plugin_dir, run_cli, switchboard_bin, to_yaml

UNSET_VAR = "SB_TEST_DEFINITELY_UNSET_TOKEN"


def position(text: str, needle: str, occurrence: int = 1) -> tuple[int, int]:
    """1-based (line, column) of the start of the n-th occurrence of needle."""
    index = -1
    for _ in range(occurrence):
        index = text.index(needle, index + 1)
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return line, column


class CliTestCase(unittest.TestCase):
    maxDiff = None

    def setUp(self) -> None:
        if not switchboard_bin():
            self.skipTest("SWITCHBOARD_BIN is not set (run through ctest, or export it)")
        self.tmp = Path(tempfile.mkdtemp(prefix="sb-cli-"))
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.demo = Tenant("demo", 1)
        self.other = Tenant("other", 2)
        os.environ.pop(UNSET_VAR, None)

    def valid_config_text(self, plugin_dirs: list[str] | None = None) -> str:
        config = build_config(listen="127.0.0.1:18080", storage_url=f"sqlite:{self.tmp / 'check.db'}",
                              plugin_dirs=plugin_dirs or [plugin_dir()],
                              graph_api_base="http://127.0.0.1:9/v21.0", tenants=[self.demo, self.other])
        return to_yaml(config) + "\n"

    def write(self, text: str, name: str = "switchboard.yaml") -> str:
        path = self.tmp / name
        path.write_text(text, encoding="utf-8")
        return str(path)

    def check(self, text: str) -> tuple[str, subprocess.CompletedProcess]:
        path = self.write(text)
        result = run_cli(["check-config", "--config", path], cwd=str(self.tmp))
        return path, result

    def assert_diagnostic(self, result: subprocess.CompletedProcess, path: str, line: int,
                          columns: tuple[int, ...] | None, pattern: str) -> str:
        """Asserts a stderr line `path:line:col: message` whose message matches pattern."""
        self.assertEqual(result.returncode, 1, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}")
        found = []
        for text in result.stderr.splitlines():
            match = re.match(re.escape(path) + r":(\d+):(\d+): (.*)$", text)
            if match and re.search(pattern, match.group(3)):
                found.append((int(match.group(1)), int(match.group(2)), text))
        self.assertTrue(found, f"no diagnostic matching {pattern!r} in:\n{result.stderr}")
        for got_line, got_column, text in found:
            if got_line == line and (columns is None or got_column in columns):
                return text
        self.fail(f"diagnostic {found} should be at line {line}, column {columns}:\n{result.stderr}")

    def assert_no_secrets(self, result: subprocess.CompletedProcess, extra: list[str] = ()) -> None:
        output = result.stdout + result.stderr
        for secret in self.demo.secrets() + self.other.secrets() + list(extra):
            self.assertNotIn(secret, output, "a secret value was printed")


class VersionTest(CliTestCase):
    def test_version(self) -> None:
        result = run_cli(["--version"])
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertRegex(result.stdout.strip(), r"^switchboard 0\.1\.0\b")


class CheckConfigTest(CliTestCase):
    def test_valid_config_is_ok(self) -> None:
        path, result = self.check(self.valid_config_text())
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn(f"{path}: ok", result.stdout + result.stderr)
        self.assert_no_secrets(result)

    def test_environment_defaults_are_used(self) -> None:
        text = self.valid_config_text().replace('listen: "127.0.0.1:18080"',
                                                f'listen: "${{{UNSET_VAR}:-127.0.0.1:18080}}"')
        _, result = self.check(text)
        self.assertEqual(result.returncode, 0, result.stderr)

    def test_unknown_key_has_position_and_did_you_mean(self) -> None:
        text = self.valid_config_text().replace("  listen:", "  listn:", 1)
        line, column = position(text, "listn")
        path, result = self.check(text)
        self.assert_diagnostic(result, path, line, (column,),
                               r"unknown key 'listn' in server; did you mean 'listen'\?")

    def test_unset_variable_without_default_is_named(self) -> None:
        text = self.valid_config_text().replace(f'"{self.demo.page_token}"', f'"${{{UNSET_VAR}}}"')
        line, _ = position(text, UNSET_VAR)
        path, result = self.check(text)
        self.assert_diagnostic(result, path, line, None, re.escape(UNSET_VAR))
        self.assert_no_secrets(result)

    def test_plugin_not_found(self) -> None:
        text = self.valid_config_text()
        at = text.index("templates:", text.index("\n  other:"))  # the "other" tenant's plugin
        text = text[:at] + "templatez:" + text[at + len("templates:"):]
        line, column = position(text, "templatez:")
        path, result = self.check(text)
        self.assert_diagnostic(result, path, line, (column,), r"templatez")

    def test_undeclared_setting_has_did_you_mean(self) -> None:
        text = self.valid_config_text()
        anchor = f'        app_secret: "{self.demo.app_secret}"\n'
        text = text.replace(anchor, anchor + '        app_secrte: "typo-value"\n', 1)
        line, column = position(text, "app_secrte")
        path, result = self.check(text)
        self.assert_diagnostic(result, path, line, (column,), r"app_secrte.*did you mean 'app_secret'")

    def test_wrong_type(self) -> None:
        text = self.valid_config_text().replace("max_body_bytes: 65536", "max_body_bytes: abc")
        line, column = position(text, "max_body_bytes")
        path, result = self.check(text)
        self.assert_diagnostic(result, path, line, (column, column + len("max_body_bytes: ")), r"max_body_bytes")

    def test_bad_duration(self) -> None:
        text = self.valid_config_text().replace('backoff_initial: "20ms"', 'backoff_initial: "soon"')
        line, column = position(text, "backoff_initial")
        path, result = self.check(text)
        self.assert_diagnostic(result, path, line, (column, column + len("backoff_initial: ")), r"backoff_initial|soon")

    def test_yaml_syntax_error_has_position(self) -> None:
        text = self.valid_config_text().replace('idle_timeout: "30s"', 'idle_timeout: "30s\n  oops: [')
        path = self.write(text)
        result = run_cli(["check-config", "--config", path], cwd=str(self.tmp))
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertRegex(result.stderr, re.escape(path) + r":\d+:\d+: ")

    def diagnostics(self, path: str, result: subprocess.CompletedProcess) -> list[str]:
        return [t for t in result.stderr.splitlines() if re.match(re.escape(path) + r":\d+:\d+: ", t)]

    def test_every_problem_in_the_core_sections_is_reported(self) -> None:
        text = self.valid_config_text()
        text = text.replace("  listen:", "  listn:", 1)
        text = text.replace("max_body_bytes: 65536", "max_body_bytes: abc")
        text = text.replace("storage:\n  url:", "storage:\n  ulr:")
        text = text.replace('backoff_initial: "20ms"', 'backoff_initial: "soon"')
        path, result = self.check(text)
        self.assertEqual(result.returncode, 1)
        self.assertEqual(len(self.diagnostics(path, result)), 4, result.stderr)
        self.assert_no_secrets(result)

    def test_every_plugin_setting_problem_is_reported_and_no_secret_is_printed(self) -> None:
        # A wrong type in one setting must not hide the problems that follow it.
        leaked = "s3cret-in-a-list-" + self.demo.app_secret[-6:]
        text = self.valid_config_text()
        text = text.replace(f'app_secret: "{self.demo.app_secret}"', f'app_secret: ["{leaked}"]', 1)
        text = text.replace("account_id:", "acount_id:", 1)
        text = text.replace(f'page_access_token: "{self.other.page_token}"',
                            f'page_access_token: "{self.other.page_token}"\n'
                            f'        page_acess_token: "{self.other.page_token}"')
        path, result = self.check(text)
        self.assertEqual(result.returncode, 1)
        self.assert_diagnostic(result, path, position(text, "app_secret: [")[0], None, r"app_secret")
        self.assert_diagnostic(result, path, position(text, "acount_id")[0], None, r"did you mean 'account_id'")
        self.assert_diagnostic(result, path, position(text, "page_acess_token")[0], None,
                               r"did you mean 'page_access_token'")
        self.assert_no_secrets(result, [leaked])

    def test_run_refuses_an_invalid_config(self) -> None:
        text = self.valid_config_text().replace("  listen:", "  listn:", 1)
        path = self.write(text)
        result = run_cli(["run", "--config", path], cwd=str(self.tmp), timeout=20)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("listn", result.stderr)


class ShippedConfigTest(CliTestCase):
    def test_shipped_config_passes_check_config_without_environment(self) -> None:
        shipped = SOURCE_DIR / "etc" / "switchboard.yaml"
        self.assertTrue(shipped.is_file(), f"{shipped} is missing")
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "SWITCHBOARD_PLUGIN_DIR": plugin_dir()}
        result = run_cli(["check-config", "--config", str(shipped)], env=env, cwd=str(self.tmp))
        self.assertEqual(result.returncode, 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}")
        self.assertIn(f"{shipped}: ok", result.stdout + result.stderr)


class PluginsListTest(CliTestCase):
    LINE = re.compile(r"^(\S+) (\S+) abi=(\d+)\.(\d+) capabilities=(\S*) (\S+)$")

    def test_lists_built_plugins(self) -> None:
        path = self.write(self.valid_config_text())
        result = run_cli(["plugins", "list", "--config", path], cwd=str(self.tmp))
        self.assertEqual(result.returncode, 0, result.stderr)
        plugins = {}
        for line in result.stdout.splitlines():
            match = self.LINE.match(line)
            self.assertIsNotNone(match, f"unexpected line {line!r}")
            name, version, major, minor, capabilities, file = match.groups()
            plugins[name] = (version, int(major), int(minor), capabilities.split(","), file)
        self.assertTrue({"messenger", "instagram", "templates"} <= set(plugins), result.stdout)
        for name, (version, major, minor, capabilities, file) in plugins.items():
            self.assertRegex(version, r"^\d+\.\d+\.\d+")
            self.assertEqual(major, 2, name)
            self.assertTrue(os.path.isfile(file), file)
        self.assertIn("channel", plugins["messenger"][3])
        self.assertIn("channel", plugins["instagram"][3])
        self.assertNotIn("refused", result.stderr)

    def test_refuses_plugins_built_against_another_abi(self) -> None:
        test_plugins = os.environ.get("SWITCHBOARD_TEST_PLUGIN_DIR")
        if not test_plugins:
            self.skipTest("SWITCHBOARD_TEST_PLUGIN_DIR is not set")
        stale = os.path.join(test_plugins, "switchboard-stale.so")
        future = os.path.join(test_plugins, "switchboard-future.so")
        for fixture in (stale, future):
            self.assertTrue(os.path.isfile(fixture), f"{fixture} was not built")
        path = self.write(self.valid_config_text([plugin_dir(), test_plugins]))
        result = run_cli(["plugins", "list", "--config", path], cwd=str(self.tmp))
        self.assertEqual(result.returncode, 1, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}")
        refusals = {}
        for line in result.stderr.splitlines():
            match = re.match(r"^(.*\.so): refused: (.*)$", line)
            if match:
                refusals[os.path.basename(match.group(1))] = match.group(2)
        self.assertIn("switchboard-stale.so", refusals, result.stderr)
        self.assertIn("switchboard-future.so", refusals, result.stderr)
        self.assertRegex(refusals["switchboard-stale.so"], r"\b0\.\d+\b")  # an older major
        self.assertRegex(refusals["switchboard-stale.so"], r"\b2\.2\b")
        self.assertRegex(refusals["switchboard-stale.so"], r"rebuild (it )?against SDK 2\.2")
        self.assertRegex(refusals["switchboard-future.so"], r"\b2\.99\b")
        self.assertRegex(refusals["switchboard-future.so"], r"\b2\.2\b")
        # A plugin built against SDK 1.0 (the 1.x export) is refused naming both versions.
        self.assertIn("switchboard-abi1.so", refusals, result.stderr)
        self.assertRegex(refusals["switchboard-abi1.so"], r"SDK ABI 1\.0 but this host implements ABI 2\.2")
        # The good plugins are still listed.
        names = {line.split(" ", 1)[0] for line in result.stdout.splitlines() if line.strip()}
        self.assertTrue({"messenger", "instagram", "templates"} <= names, result.stdout)


class ExamplesTest(unittest.TestCase):
    """Every runnable example under etc/examples checks out of a fresh build, with the provider
    secrets unset (the service still starts; unset channels refuse webhooks)."""

    def test_every_example_passes_check_config(self) -> None:
        if not switchboard_bin():
            self.skipTest("SWITCHBOARD_BIN is not set")
        examples = sorted((Path(SOURCE_DIR) / "etc" / "examples").glob("*.yaml"))
        self.assertTrue(examples)
        # With its secrets unset, every channel or tier of an example still starts and names the
        # variable that would enable it.
        names = {"channels.yaml": ["FACEBOOK_APP_SECRET", "WHATSAPP_ACCESS_TOKEN", "D360_WEBHOOK_SECRET",
                                   "TWILIO_AUTH_TOKEN", "TIKTOK_CLIENT_SECRET", "TELEGRAM_WEBHOOK_SECRET"],
                 "ai.yaml": ["FACEBOOK_APP_SECRET", "OPENAI_API_KEY", "ANTHROPIC_API_KEY"]}
        prefixes = ("FACEBOOK_", "TELEGRAM_", "MESSENGER_", "WHATSAPP_", "D360_", "TWILIO_", "TIKTOK_", "OPENAI_",
                    "ANTHROPIC_")
        env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
        env["SWITCHBOARD_PLUGIN_DIR"] = plugin_dir()
        for example in examples:
            with self.subTest(example=example.name):
                result = run_cli(["check-config", "--config", str(example)], env=env, cwd=tempfile.mkdtemp())
                self.assertEqual(result.returncode, 0, result.stderr)
                for variable in names.get(example.name, []):
                    self.assertIn(f"({variable})", result.stderr)


if __name__ == "__main__":
    unittest.main()
