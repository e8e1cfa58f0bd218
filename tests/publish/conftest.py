"""Fixtures of the publish tests: a DATA_DIR with a public, a withdrawn and a private image of known
pixels, plain static hosts serving OUT_DIR, and the browser suite's Chromium fixtures."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from publish_helpers import add_image, browser_fixtures, ramp16, stack8, start_http_server, start_nginx

from chromatile.store import DataDir

browser = browser_fixtures.browser
page = browser_fixtures.page
webclient_built = browser_fixtures.webclient_built


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """`public` (ramp16), `gone` (withdrawn) and `secret` (private) in a fresh DATA_DIR."""
    data = tmp_path / "data"
    data.mkdir()
    add_image(data, "public", ramp16())
    add_image(data, "gone", stack8(50))
    add_image(data, "secret", stack8(90))
    DataDir(data).withdraw("gone", "flagged")
    DataDir(data).set_private("secret", True)
    return data


@pytest.fixture
def static_hosts(tmp_path: Path) -> Iterator[Callable[..., str]]:
    """Factory: `host("nginx" | "http.server", OUT_DIR, extra="")` -> base URL (`extra`: nginx server
    directives); every host stopped after the test."""
    procs: list[subprocess.Popen[Any]] = []

    def start(kind: str, root: Path, extra: str = "") -> str:
        if kind == "nginx":
            url, proc = start_nginx(root, tmp_path / f"nginx{len(procs)}", extra)
        else:
            url, proc = start_http_server(root)
        procs.append(proc)
        return url

    yield start
    for proc in procs:
        proc.send_signal(signal.SIGQUIT if proc.args[0].endswith("nginx") else signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
