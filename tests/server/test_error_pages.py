"""/view/<id> errors are pages for people (same status codes) and JSON for API clients."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from conftest import LiveServer, fetch
from flask import Flask
from werkzeug.serving import make_server

from chromatile import access
from chromatile.http import init_app
from chromatile.store import DataDir

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
JSON = {"Accept": "application/json"}


@pytest.fixture
def site(serve_app, data_dir: Path) -> LiveServer:
    live = serve_app(data_dir)
    data = DataDir(data_dir)
    data.withdraw("small", "consent <b>revoked</b>")
    data.set_private("ramp", True)
    return live


def expired_token(data_dir: Path) -> str:
    return access.sign(DataDir(data_dir).signing_secret(create=True), "ramp", int(time.time()) - 5)


def cases(data_dir: Path) -> list[tuple[str, int, str]]:
    return [
        ("/view/nosuch", 404, "No such image"),
        ("/view/small", 410, "This image was withdrawn"),
        (f"/view/ramp?token={expired_token(data_dir)}", 403, "This link does not give access to the image"),
        ("/view/ramp?token=forged.123", 403, "This link does not give access to the image"),
        ("/view/ramp", 401, "This image is private"),
    ]


def test_a_browser_gets_an_html_page_with_the_reason_and_a_link_to_the_catalog(site: LiveServer) -> None:
    for path, status, title in cases(site.data_dir):
        r = site.get(path, headers=BROWSER)
        assert r.status == status, path
        assert r.header("Content-Type") == "text/html; charset=utf-8", path
        assert r.header("Cache-Control") == "no-store"
        html = r.body.decode()
        assert f"<h1>{title}</h1>" in html, path
        assert f"HTTP {status}" in html
        assert 'href="/">See the images on this server</a>' in html
        assert 'href="/viewer/viewer.css"' in html and 'class="ct-page"' in html
    withdrawn = site.get("/view/small", headers=BROWSER).body.decode()
    # the server's own reason, escaped: never markup of its own
    assert "was withdrawn: consent &lt;b&gt;revoked&lt;/b&gt;." in withdrawn and "<b>" not in withdrawn


def test_json_clients_keep_the_json_error(site: LiveServer) -> None:
    for path, status, _ in cases(site.data_dir):
        r = site.get(path, headers=JSON)
        assert r.status == status, path
        assert r.header("Content-Type") == "application/json"
        assert set(r.json()) == {"error"}


def test_the_error_page_follows_the_url_prefix(data_dir: Path) -> None:
    host = Flask("host")
    init_app(host, {"data_dir": data_dir}, url_prefix="/images")
    server = make_server("127.0.0.1", 0, host, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        r = fetch(f"http://127.0.0.1:{server.server_port}", "/images/view/nosuch", headers=BROWSER)
        assert r.status == 404
        assert 'href="/images/">See the images' in r.body.decode()
        assert 'href="/images/viewer/viewer.css"' in r.body.decode()
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
