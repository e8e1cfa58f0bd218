"""The two nginx recipes of docs/server.md with a real nginx in front of a real chromatile:
(a) X-Accel-Redirect, (b) nginx serving /data/ itself, checking the same withdrawn/private markers."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import LiveServer, fetch, free_port, wait_for_port

from chromatile.store import DataDir

CHUNK = "/data/ramp.ome.zarr/0/0/0/0/1/3"

RECIPE_A = """
    location /_stores/ {
        internal;
        alias DATA/;
        add_header Cache-Control $upstream_http_cache_control;
        add_header Access-Control-Allow-Origin *;
        add_header Access-Control-Expose-Headers "ETag, Last-Modified, Content-Length, Content-Range, Accept-Ranges";
    }
    location / {
        proxy_pass http://UPSTREAM;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host $host;
    }
"""

RECIPE_B = r"""
    location ~ "^/data/(?<img>[A-Za-z0-9][A-Za-z0-9._-]{0,127})\.ome\.zarr/(?<rest>.*)$" {
        if (-f DATA/.chromatile/withdrawn/$img) { return 410; }
        if (-f DATA/.chromatile/private/$img) { return 403; }
        if ($rest ~ "(^|/)\.(?!zattrs$|zgroup$|zarray$|zmetadata$)") { return 404; }
        alias DATA/$img.ome.zarr/$rest;
        disable_symlinks on;
        add_header Cache-Control "public, max-age=31536000, immutable";
        add_header Access-Control-Allow-Origin *;
    }
    location / {
        proxy_pass http://UPSTREAM;
    }
"""


@pytest.fixture
def nginx(tmp_path: Path) -> Iterator[Callable[[str, Path, str], str]]:
    """Factory: nginx on a free loopback port with one of the recipes; stopped after the test."""
    procs: list[subprocess.Popen[bytes]] = []

    def start(recipe: str, data_dir: Path, upstream: str) -> str:
        prefix = tmp_path / f"nginx{len(procs)}"
        prefix.mkdir()
        port = free_port()
        temp = "\n".join(f"  {k}_temp_path {prefix}/{k};" for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        body = recipe.replace("DATA", os.path.realpath(data_dir)).replace("UPSTREAM", upstream.removeprefix("http://"))
        (prefix / "nginx.conf").write_text(f"""
{"user root;" if os.geteuid() == 0 else ""}
worker_processes 1;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 256; }}
http {{
  access_log off;
  default_type application/octet-stream;
{temp}
  server {{
    listen 127.0.0.1:{port};
{body}
  }}
}}
""")
        proc = subprocess.Popen([shutil.which("nginx") or "/usr/sbin/nginx", "-p", str(prefix), "-c",
                                 str(prefix / "nginx.conf"), "-e", str(prefix / "error.log")],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        procs.append(proc)
        wait_for_port(port, proc)
        return f"http://127.0.0.1:{port}"

    yield start
    for proc in procs:
        proc.send_signal(signal.SIGQUIT)
        proc.wait(timeout=10)


def test_x_accel_redirect_recipe(nginx, serve_app, data_dir: Path) -> None:
    live: LiveServer = serve_app(data_dir, x_accel_prefix="/_stores/")
    base = nginx(RECIPE_A, data_dir, live.url)
    chunk_file = data_dir / "ramp.ome.zarr/0/0/0/0/1/3"
    r = fetch(base, CHUNK)
    assert (r.status, r.body) == (200, chunk_file.read_bytes())
    assert r.header("Cache-Control") == "public, max-age=31536000, immutable"
    assert r.header("Access-Control-Allow-Origin") == "*"
    assert r.header("ETag") and r.header("Last-Modified")
    assert fetch(base, CHUNK, headers={"If-None-Match": r.header("ETag")}).status == 304
    ranged = fetch(base, CHUNK, headers={"Range": "bytes=0-9"})
    assert (ranged.status, ranged.body) == (206, chunk_file.read_bytes()[:10])
    assert fetch(base, "/data/ramp.ome.zarr/.zattrs").body == (data_dir / "ramp.ome.zarr/.zattrs").read_bytes()
    absent = fetch(base, "/data/ramp.ome.zarr/0/0/1/0/0/0")
    assert (absent.status, absent.body) == (404, b"")
    assert fetch(base, "/api/images/ramp").json()["store_url"] == "/data/ramp.ome.zarr"
    assert fetch(base, "/data/ramp.ome.zarr/%2e%2e/%2e%2e/etc/passwd").status in (400, 403, 404)

    DataDir(data_dir).set_private("ramp", True)
    assert fetch(base, CHUNK).status == 401
    DataDir(data_dir).withdraw("ramp", "flagged")
    gone = fetch(base, CHUNK, headers={"If-None-Match": r.header("ETag")})
    assert (gone.status, gone.json()) == (410, {"error": "image 'ramp' was withdrawn: flagged"})


def test_nginx_serving_data_directly_recipe(nginx, serve_app, data_dir: Path, tmp_path: Path) -> None:
    live: LiveServer = serve_app(data_dir)
    base = nginx(RECIPE_B, data_dir, live.url)
    store = data_dir / "ramp.ome.zarr"
    r = fetch(base, CHUNK)
    assert (r.status, r.body) == (200, (store / "0/0/0/0/1/3").read_bytes())
    assert r.header("Cache-Control") == "public, max-age=31536000, immutable"
    assert fetch(base, "/data/ramp.ome.zarr/0/.zarray").body == (store / "0/.zarray").read_bytes()
    assert fetch(base, "/data/ramp.ome.zarr/0/0/1/0/0/0").status == 404  # absent chunk
    assert fetch(base, "/api/images/ramp").json()["id"] == "ramp"  # the rest goes to chromatile

    (store / ".hidden").write_bytes(b"secret")
    (tmp_path / "outside").write_bytes(b"secret")
    os.symlink(tmp_path / "outside", store / "0/0/0/0/0/9")
    for path in ("/data/ramp.ome.zarr/.hidden", "/data/ramp.ome.zarr/0/0/0/0/0/9",
                 "/data/ramp.ome.zarr/../../outside", "/data/ramp.ome.zarr/%2e%2e/%2e%2e/outside"):
        refused = fetch(base, path)
        assert 400 <= refused.status < 500 and b"secret" not in refused.body, path

    DataDir(data_dir).set_private("ramp", True)
    assert fetch(base, CHUNK).status == 403
    DataDir(data_dir).set_private("ramp", False)
    DataDir(data_dir).withdraw("ramp")
    assert fetch(base, CHUNK).status == 410
    assert fetch(base, "/data/ramp.ome.zarr/.zattrs").status == 410
    DataDir(data_dir).restore("ramp")
    assert fetch(base, CHUNK).status == 200
