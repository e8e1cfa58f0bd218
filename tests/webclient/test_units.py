"""The viewer's pure modules (view transform, load planner) under node's test runner, without a browser."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TESTS = REPO / "webclient" / "test"


def test_node_unit_tests_pass() -> None:
    node = shutil.which("node")
    assert node, "node is needed for the viewer's unit tests"
    files = sorted(str(p) for p in TESTS.glob("*.test.js"))
    assert files, f"no unit tests in {TESTS}"
    # virtual.mjs: modules importing the shaders the build embeds (virtual:shaders) load them from shaders/
    hooks = str(TESTS / "virtual.mjs")
    run = subprocess.run([node, "--import", hooks, "--test", *files], check=False, cwd=REPO, capture_output=True, text=True, timeout=240)
    assert run.returncode == 0, f"node --test failed:\n{run.stdout[-6000:]}\n{run.stderr[-2000:]}"
