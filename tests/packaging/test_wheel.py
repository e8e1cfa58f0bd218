"""A normal (non-editable) install serves the viewer: build the wheel, install it in a fresh venv, run the demo.

This is how people on macOS or Windows get chromatile (`pip install chromatile`): no source tree, no Node.js,
no Debian packages. The demo runs with PATH holding only the new venv, from a folder outside the repository.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SITE = REPO / "server" / "chromatile" / "static"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`python -m build` of the repository (sdist, then the wheel from it), after building the viewer."""
    if not (SITE / "dist" / "chromatile.js").is_file():
        npm = shutil.which("npm")
        assert npm, "npm is needed to build the viewer before the wheel"
        subprocess.run([npm, "run", "build"], cwd=REPO, check=True)
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "build", "--outdir", str(out), str(REPO)], check=True,
                   capture_output=True, timeout=600)
    (whl,) = out.glob("chromatile-*.whl")
    return whl


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with only the wheel (and its dependencies) installed."""
    root = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", str(root)], check=True, timeout=120)
    subprocess.run([str(root / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel)], check=True,
                   timeout=600)
    return root


def test_the_wheel_carries_the_built_viewer(wheel: Path) -> None:
    import zipfile

    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"chromatile/static/index.html", "chromatile/static/viewer.css",
            "chromatile/static/dist/chromatile.js", "chromatile/static/dist/worker/decode-worker.js"} <= names
    # every codec the decode worker loads on demand is in the wheel too
    assert any(n.startswith("chromatile/static/dist/worker/zstd-") for n in names)


def wait_until_listening(port: int, timeout: float = 60.0) -> None:
    """Block until 127.0.0.1:port accepts a connection (the message may come before the bind)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@pytest.fixture
def demo(venv: Path, tmp_path: Path) -> Iterator[str]:
    """`chromatile demo` from the installed wheel on a free port; yields its base URL."""
    env = {"PATH": str(venv / "bin"), "HOME": str(tmp_path), "LANG": "C.UTF-8"}
    with socket.socket() as s:  # a free port (the demo prints the port it was given)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([str(venv / "bin" / "chromatile"), "demo", "--data", str(tmp_path / "demo"),
                             "--width", "600", "--height", "400", "--z", "2", "--channels", "2",
                             "--port", str(port), "--workers", "1", "--no-access-log"],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    try:
        assert proc.stdout is not None
        url = None
        seen = []
        for line in proc.stdout:  # the demo prints its URL once it listens
            seen.append(line)
            found = re.search(r"open (http://127\.0\.0\.1:\d+)/", line)
            if found:
                url = found.group(1)
                break
        assert url, "the demo never said where it listens:\n" + "".join(seen)
        wait_until_listening(port)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)


def test_the_installed_package_is_the_wheel_not_the_source_tree(venv: Path) -> None:
    where = subprocess.run([str(venv / "bin" / "python"), "-c", "import chromatile; print(chromatile.__file__)"],
                           capture_output=True, text=True, check=True, cwd="/").stdout.strip()
    assert where.startswith(str(venv)), where


def test_demo_from_the_wheel_serves_the_viewer_and_the_sample(demo: str) -> None:
    with urllib.request.urlopen(demo + "/", timeout=30) as r:
        page = r.read().decode()
        assert r.status == 200 and r.headers["Content-Type"].startswith("text/html")
    assert "/viewer/dist/chromatile.js" in page
    with urllib.request.urlopen(demo + "/viewer/dist/chromatile.js", timeout=30) as r:
        assert r.status == 200 and "javascript" in r.headers["Content-Type"]
        assert len(r.read()) > 10_000
    with urllib.request.urlopen(demo + "/viewer/viewer.css", timeout=30) as r:
        assert r.status == 200 and r.headers["Content-Type"].startswith("text/css")
    with urllib.request.urlopen(demo + "/api/images", timeout=30) as r:
        assert "sample" in r.read().decode()
