"""plugins/plugins.yaml is the one list of in-tree plugins: it must name every plugin folder, and
what it says of each plugin (name, kind, secrets) must match what the built plugin declares."""

from __future__ import annotations

import json
import os
import re
import unittest
from pathlib import Path

from harness import SOURCE_DIR, plugin_dir, run_cli, switchboard_bin

PLUGINS = SOURCE_DIR / "plugins"


def read_plugin_list() -> tuple[list[dict], list[dict]]:
    """The entries of plugins.yaml (a small, fixed shape: lists of flat mappings)."""
    sections: dict[str, list[dict]] = {"plugins": [], "libraries": []}
    current: list[dict] | None = None
    for line in (PLUGINS / "plugins.yaml").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if re.match(r"^[a-z]+:\s*$", line):
            current = sections[line.split(":")[0]]
            continue
        m = re.match(r"^\s*(- )?([a-z_]+):\s*(.*)$", line)
        assert m and current is not None, f"unexpected line in plugins.yaml: {line!r}"
        if m.group(1):
            current.append({})
        key, value = m.group(2), m.group(3).strip()
        if value.startswith("["):
            value = [v.strip() for v in value.strip("[]").split(",") if v.strip()]
        current[-1][key] = value
    return sections["plugins"], sections["libraries"]


class PluginListTest(unittest.TestCase):
    def setUp(self) -> None:
        self.plugins, self.libraries = read_plugin_list()

    def test_every_plugin_folder_is_listed_and_named_by_kind(self) -> None:
        folders = {p.name for p in PLUGINS.iterdir() if p.is_dir() and p.name != "lib"}
        listed = {p["dir"] for p in self.plugins}
        self.assertEqual(folders, listed)
        libs = {f"lib/{p.name}" for p in (PLUGINS / "lib").iterdir() if p.is_dir()}
        self.assertEqual(libs, {l["dir"] for l in self.libraries})
        for p in self.plugins:
            self.assertIn(p["kind"], ("channel", "ai", "payment", "crm", "notify"))
            self.assertTrue(p["dir"].startswith(p["kind"] + "-"), p)
            self.assertIn(p["status"], ("stable", "alpha", "planned"))
            self.assertTrue(p["verifies"], p)

    def test_what_the_list_says_matches_the_built_plugins(self) -> None:
        if not switchboard_bin():
            self.skipTest("SWITCHBOARD_BIN is not set")
        for p in self.plugins:
            with self.subTest(plugin=p["name"]):
                path = Path(plugin_dir()) / f"switchboard-{p['name']}.so"
                result = run_cli(["plugins", "inspect", str(path), "--json"])
                self.assertEqual(result.returncode, 0, result.stderr)
                described = json.loads(result.stdout)
                self.assertEqual(described["name"], p["name"])
                kind = {"channel": "channel", "ai": "stage"}.get(p["kind"], p["kind"])
                self.assertIn(kind, described["capabilities"])
                secrets = sorted(s["name"] for s in described["settings"] if s["secret"])
                self.assertEqual(sorted(p["secrets"]), secrets)


if __name__ == "__main__":
    unittest.main()
