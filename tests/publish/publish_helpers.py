"""Helpers of the publish tests (a module with its own name: `conftest` is taken by every test folder):
known images ingested with our own ingest, the `chromatile publish` command, the expected files of a
site, and plain static hosts (nginx from Debian with a minimal config, `python -m http.server`)."""

from __future__ import annotations

import http.client
import importlib.util
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import tifffile

from chromatile.config import default_webclient_dir
from chromatile.ingest import ingest

REPO = Path(__file__).resolve().parents[2]


def _load(name: str, path: Path) -> Any:
    """A module of tests/browser under its own name (its folder is not a package)."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


# the browser suite's fixtures and readback helpers, and its NumPy reference of the viewer's maths
browser_fixtures = _load("chromatile_browser_fixtures", REPO / "tests/browser/conftest.py")
viewer_reference = _load("chromatile_viewer_reference", REPO / "tests/browser/viewer_reference.py")
ramp16 = browser_fixtures.ramp16


def stack8(value: int) -> np.ndarray:
    """(C=1, Z=1, Y=40, X=50) uint8 filled with `value`."""
    return np.full((1, 1, 40, 50), value, np.uint8)


def add_image(data_dir: Path, image_id: str, pixels: np.ndarray, **options: Any) -> None:
    """Ingest `pixels` (CZYX) as `image_id` with our own ingest, tiles of 64 (`options`: more ingest
    keywords)."""
    tif = data_dir.parent / "src" / f"{image_id}.ome.tif"
    tif.parent.mkdir(exist_ok=True)
    tifffile.imwrite(tif, pixels, ome=True, metadata={"axes": "CZYX"})
    ingest(tif, data_dir, image_id=image_id, tile=64, **options)


@dataclass
class Run:
    code: int
    out: str
    err: str


def run_publish(*args: str | Path, env: dict[str, str] | None = None) -> Run:
    """`chromatile publish ARGS` in a subprocess, as a user runs it."""
    done = subprocess.run([sys.executable, "-m", "chromatile.cli", "publish", *map(str, args)],
                          capture_output=True, text=True, timeout=120, env={**os.environ, **(env or {})},
                          check=False)
    return Run(done.returncode, done.stdout, done.stderr)


def site_files(out_dir: Path) -> set[str]:
    """Every file under OUT_DIR, relative."""
    return {str(p.relative_to(out_dir)) for p in out_dir.rglob("*") if p.is_file() or p.is_symlink()}


def expected_files(data_dir: Path, ids: list[str]) -> set[str]:
    """What a site of `ids` must hold, no more: site files, viewer bundle, one page and store each."""
    files = {"index.html", "catalog.json", ".nojekyll", ".chromatile-publish.json", "viewer/viewer.css"}
    dist = default_webclient_dir() / "dist"
    files |= {f"viewer/dist/{p.relative_to(dist)}" for p in dist.rglob("*")
              if p.is_file() and not p.name.startswith(".")}
    for image_id in ids:
        files.add(f"view/{image_id}/index.html")
        store = data_dir / f"{image_id}.ome.zarr"
        files |= {f"data/{image_id}.ome.zarr/{p.relative_to(store)}" for p in store.rglob("*") if p.is_file()}
    return files


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[Any], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on port {port} after {timeout} s")


# Debian's default site, reduced to what serves files: its mime.types and a root. No rewrites, no
# extra MIME types, no CORS.
NGINX_CONF = """
{user}
worker_processes 1;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 256; }}
http {{
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  access_log off;
  sendfile on;
{temp}
  server {{
    listen 127.0.0.1:{port};
    root {root};
    index index.html;
{extra}
  }}
}}
"""


def start_nginx(root: Path, prefix: Path, extra: str = "") -> tuple[str, subprocess.Popen[bytes]]:
    """nginx serving `root` as static files on a free loopback port (`extra`: more server directives)."""
    prefix.mkdir(parents=True, exist_ok=True)
    port = free_port()
    temp = "\n".join(f"  {k}_temp_path {prefix}/{k};" for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    (prefix / "nginx.conf").write_text(NGINX_CONF.format(
        user="user root;" if os.geteuid() == 0 else "", prefix=prefix, temp=temp, port=port,
        root=os.path.realpath(root), extra=extra))
    proc = subprocess.Popen([shutil.which("nginx") or "/usr/sbin/nginx", "-p", str(prefix), "-c",
                             str(prefix / "nginx.conf"), "-e", str(prefix / "error.log")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wait_for_port(port, proc)
    return f"http://127.0.0.1:{port}", proc


def start_http_server(root: Path) -> tuple[str, subprocess.Popen[str]]:
    """`python -m http.server` serving `root` on a port it picks (read from its first line)."""
    proc = subprocess.Popen([sys.executable, "-u", "-m", "http.server", "0", "--bind", "127.0.0.1",
                             "--directory", str(root)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    match = re.search(r"port (\d+)", line)
    if not match:
        proc.kill()
        raise RuntimeError(f"http.server did not start: {line!r}")
    port = int(match.group(1))
    wait_for_port(port, proc)
    return f"http://127.0.0.1:{port}", proc


def get(base: str, path: str) -> tuple[int, bytes, str]:
    """(status, body, Content-Type) of GET base/path."""
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.request("GET", "/" + path)
        r = conn.getresponse()
        return r.status, r.read(), r.getheader("Content-Type") or ""
    finally:
        conn.close()


def header(base: str, path: str, name: str) -> str | None:
    """One response header of GET base/path (200 asserted)."""
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.request("GET", "/" + path)
        r = conn.getresponse()
        r.read()
        assert r.status == 200, (path, r.status)
        return r.getheader(name)
    finally:
        conn.close()
