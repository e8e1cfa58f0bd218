"""Viewer pages (/, /view/<id>, /viewer/<path>) and mounting the app under a prefix."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import LiveServer, fetch
from flask import Flask
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import make_server

from chromatile import create_app
from chromatile.http import init_app

PAGE = ('<!doctype html><script type="module" src="__CHROMATILE_BASE__/viewer/dist/chromatile.js">'
        '</script><a href="__CHROMATILE_BASE__/api/images">catalog</a>')


@pytest.fixture
def webclient(tmp_path: Path) -> Path:
    folder = tmp_path / "webclient"
    (folder / "dist").mkdir(parents=True)
    (folder / "index.html").write_text(PAGE)
    (folder / "dist" / "chromatile.js").write_text("export const x = 1;\n")
    (folder / "viewer.css").write_text("body{}\n")
    (folder / ".env").write_text("SECRET=1\n")
    return folder


@pytest.fixture
def pages(serve_app, data_dir: Path, webclient: Path) -> LiveServer:
    return serve_app(data_dir, webclient_dir=webclient)


def test_index_and_view_pages_have_the_base_filled_in(pages: LiveServer) -> None:
    for path in ("/", "/view/ramp", "/view?url=http://elsewhere/x.ome.zarr"):
        r = pages.get(path)
        assert r.status == 200, path
        assert r.header("Content-Type") == "text/html; charset=utf-8"
        assert r.body.decode() == PAGE.replace("__CHROMATILE_BASE__", "")
        assert r.header("Cache-Control") == "no-cache"
    assert pages.get("/view/nope").status == 404
    pages.app.extensions["chromatile"].data.withdraw("ramp")
    assert pages.get("/view/ramp").status == 410


def test_viewer_files_are_served_with_revalidation(pages: LiveServer, webclient: Path) -> None:
    r = pages.get("/viewer/dist/chromatile.js")
    assert (r.status, r.body) == (200, b"export const x = 1;\n")
    assert r.header("Content-Type").startswith("text/javascript")
    assert r.header("Cache-Control") == "no-cache"
    again = pages.get("/viewer/dist/chromatile.js", headers={"If-None-Match": r.header("ETag")})
    assert again.status == 304
    assert pages.get("/viewer/viewer.css").header("Content-Type").startswith("text/css")
    for bad in ("/viewer/.env", "/viewer/../index.html", "/viewer/dist", "/viewer/missing.js"):
        assert 400 <= pages.get(bad).status < 500, bad


@pytest.fixture
def mounted(data_dir: Path, webclient: Path) -> Iterator[str]:
    """chromatile mounted at /tiles inside another WSGI app (what the Django recipe does)."""
    app = create_app({"data_dir": data_dir, "webclient_dir": webclient})
    host = Flask("host")
    host.add_url_rule("/", "home", lambda: "host home")
    server = make_server("127.0.0.1", 0, DispatcherMiddleware(host.wsgi_app, {"/tiles": app}), threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def test_mounted_under_a_prefix_every_url_carries_it(mounted: str, data_dir: Path) -> None:
    assert fetch(mounted, "/").body == b"host home"
    assert fetch(mounted, "/tiles/view/ramp").body.decode() == PAGE.replace("__CHROMATILE_BASE__", "/tiles")
    meta = fetch(mounted, "/tiles/api/images/ramp").json()
    assert (meta["store_url"], meta["viewer_url"]) == ("/tiles/data/ramp.ome.zarr", "/tiles/view/ramp")
    assert fetch(mounted, "/tiles/api/openapi.json").json()["servers"] == [{"url": "/tiles"}]
    chunk = fetch(mounted, "/tiles/data/ramp.ome.zarr/0/0/0/0/0/0")
    assert chunk.body == (data_dir / "ramp.ome.zarr/0/0/0/0/0/0").read_bytes()


def test_blueprint_on_an_existing_flask_app(data_dir: Path, webclient: Path) -> None:
    host = Flask("host")
    host.add_url_rule("/", "home", lambda: "host home")
    init_app(host, {"data_dir": data_dir, "webclient_dir": webclient}, url_prefix="/images")
    server = make_server("127.0.0.1", 0, host, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        assert fetch(base, "/").body == b"host home"
        assert fetch(base, "/images/api/images/ramp").json()["store_url"] == "/images/data/ramp.ome.zarr"
        assert fetch(base, "/images/view/ramp").body.decode() == PAGE.replace("__CHROMATILE_BASE__", "/images")
        assert fetch(base, "/images/api/images/nope").json() == {"error": "no image 'nope'"}
        chunk = fetch(base, "/images/data/ramp.ome.zarr/0/0/0/0/0/0")
        assert chunk.body == (data_dir / "ramp.ome.zarr/0/0/0/0/0/0").read_bytes()
        assert chunk.header("Access-Control-Allow-Origin") == "*"
        assert fetch(base, "/images/data/ramp.ome.zarr/0/0/1/0/0/0").status == 404  # absent chunk
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
