"""The published site from plain static hosts, in the browser: the catalog lists exactly the public
image, its link opens a viewer that draws it exactly, and no request leaves the site's origin."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest
from playwright.sync_api import Page
from publish_helpers import (
    add_image,
    browser_fixtures,
    expected_files,
    get,
    ramp16,
    run_publish,
    site_files,
    stack8,
    viewer_reference,
)
from werkzeug.serving import make_server

import chromatile
from chromatile.store import DataDir

pytestmark = pytest.mark.browser

VIEW = {"center": [64, 64], "zoom": 2}
CHANNELS = [
    {"color": "#ff0000", "window": [5000, 50000], "visible": True, "gamma": 1.0, "invert": False, "colormap": "color"},
    {"color": "#00ff80", "window": [1000, 30000], "visible": True, "gamma": 1.0, "invert": False, "colormap": "color"},
]
# ramp16's channel 1 is zero over tile (z=0, ty=0, tx=1): ingest leaves that chunk out, the host answers 404
# (to other readers; the viewer knows it from chromatile.absent and never asks)
ABSENT_CHUNK = "data/public.ome.zarr/0/0/1/0/0/1"


def watch_requests(page: Page) -> list[str]:
    """Every URL the page (and its workers) request from now on."""
    urls: list[str] = []
    page.context.on("request", lambda request: urls.append(request.url))
    return urls


def open_catalog(page: Page, site: str) -> list[tuple[str, str]]:
    """(text, href) of the catalog's links once the list has loaded."""
    page.goto(f"{site}/")
    page.wait_for_selector(".ct-catalog-item a")
    links = page.eval_on_selector_all(".ct-catalog-item a", "links => links.map(a => [a.textContent, a.href])")
    return [(text, href) for text, href in links]


def view_after_click(page: Page) -> np.ndarray:
    """Follow the first catalog link, wait for the first complete view, read back the known state."""
    page.click(".ct-catalog-item a")
    page.wait_for_function("window.chromatileViewer !== undefined")
    page.evaluate("async () => { await window.chromatileViewer.ready; await window.chromatileViewer.whenIdle(); }")
    return browser_fixtures.render(page, {"view": VIEW, "z": 0, "blend": "additive", "channels": CHANNELS})


def assert_same_origin(urls: list[str], site: str) -> None:
    origin = urlsplit(site)
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob"):
            continue
        assert (parts.scheme, parts.netloc) == (origin.scheme, origin.netloc), f"request left the site: {url}"


@pytest.mark.parametrize("host", ["nginx", "http.server"])
def test_site_from_a_plain_static_host(host: str, data_dir: Path, tmp_path: Path, page: Page,
                                       static_hosts: Callable[..., str], webclient_built: Path) -> None:
    out = tmp_path / "site"
    assert run_publish(data_dir, out).code == 0
    site = static_hosts(host, out)

    # default MIME types of the host are enough; an absent chunk is a plain 404 (fill value)
    status, _, ctype = get(site, "viewer/dist/chromatile.js")
    assert status == 200 and "javascript" in ctype
    assert not (out / ABSENT_CHUNK).exists() and get(site, ABSENT_CHUNK)[0] == 404
    assert get(site, "data/public.ome.zarr/.zattrs")[0] == 200
    for hidden in ("gone", "secret"):
        assert get(site, f"view/{hidden}/")[0] == 404 and get(site, f"data/{hidden}.ome.zarr/.zattrs")[0] == 404

    urls = watch_requests(page)
    links = open_catalog(page, site)
    assert links == [("public", f"{site}/view/public/")]
    # the thumbnail loads (inside the published store)
    page.wait_for_function("() => { const i = document.querySelector('.ct-catalog-item img'); "
                           "return i && i.complete && i.naturalWidth > 0; }")

    got = view_after_click(page)
    assert page.url.split("#")[0] == f"{site}/view/public/"
    size = browser_fixtures.canvas_size(page)
    expected = viewer_reference.view_of(viewer_reference.composite(ramp16()[:, 0], CHANNELS, "additive"), VIEW["center"], VIEW["zoom"], *size)
    browser_fixtures.assert_close(got, expected)
    assert got[:192].max() > 200, "the picture is not black"
    assert not page.errors
    assert any(u.endswith("/data/public.ome.zarr/.zattrs") for u in urls)
    assert any(u.endswith("/data/public.ome.zarr/0/0/1/0/0/0") for u in urls), "the plane's chunks are fetched"
    assert not any(u.endswith("/" + ABSENT_CHUNK) for u in urls), "the store's record spares the absent chunk's 404"
    assert_same_origin(urls, site)


def test_republish_under_a_running_host(data_dir: Path, tmp_path: Path, page: Page,
                                        static_hosts: Callable[..., str], webclient_built: Path) -> None:
    out = tmp_path / "site"
    assert run_publish(data_dir, out).code == 0
    site = static_hosts("nginx", out)
    assert [text for text, _ in open_catalog(page, site)] == ["public"]

    add_image(data_dir, "late", stack8(7))
    DataDir(data_dir).withdraw("public")
    again = run_publish(data_dir, out)
    assert again.code == 0 and " in " in again.out and "added: late" in again.out
    assert site_files(out) == expected_files(data_dir, ["late"])
    assert get(site, "view/public/")[0] == 404 and get(site, "data/public.ome.zarr/.zattrs")[0] == 404

    urls = watch_requests(page)
    assert open_catalog(page, site) == [("late", f"{site}/view/late/")]
    page.click(".ct-catalog-item a")
    page.wait_for_function("window.chromatileViewer !== undefined")
    page.evaluate("async () => { await window.chromatileViewer.ready; await window.chromatileViewer.whenIdle(); }")
    grey = [{"color": "#ffffff", "window": [0, 255], "visible": True, "gamma": 1.0, "invert": False,
             "colormap": "color"}]
    got = browser_fixtures.render(page, {"view": {"center": [25, 20], "zoom": 1}, "z": 0, "channels": grey})
    size = browser_fixtures.canvas_size(page)
    expected = viewer_reference.view_of(viewer_reference.composite(stack8(7)[:, 0], grey, "additive"), [25, 20], 1, *size)
    browser_fixtures.assert_close(got, expected)
    assert json.loads(get(site, "catalog.json")[1])["images"][0]["id"] == "late"
    assert_same_origin(urls, site)


@pytest.mark.parametrize("base_url", [None, "/lab/images"])
def test_site_under_a_path_prefix(base_url: str | None, data_dir: Path, tmp_path: Path, page: Page,
                                  static_hosts: Callable[..., str], webclient_built: Path) -> None:
    """Served from /lab/images/ of a host: relative URLs need nothing, --base-url gives the same."""
    www = tmp_path / "www"
    out = www / "lab" / "images"
    assert run_publish(data_dir, out, *(["--base-url", base_url] if base_url else [])).code == 0
    host = static_hosts("nginx", www)
    site = f"{host}/lab/images"
    urls = watch_requests(page)
    assert open_catalog(page, site) == [("public", f"{site}/view/public/")]
    got = view_after_click(page)
    size = browser_fixtures.canvas_size(page)
    expected = viewer_reference.view_of(viewer_reference.composite(ramp16()[:, 0], CHANNELS, "additive"),
                                        VIEW["center"], VIEW["zoom"], *size)
    browser_fixtures.assert_close(got, expected)
    assert not page.errors
    assert all(urlsplit(u).path.startswith("/lab/images/") for u in urls if urlsplit(u).scheme == "http")
    assert_same_origin(urls, host)


def test_sharded_ngff05_store_from_nginx(tmp_path: Path, page: Page, static_hosts: Callable[..., str],
                                        webclient_built: Path) -> None:
    """An OME-Zarr 0.5 store with shards (read by Range requests) published and viewed from nginx."""
    data = tmp_path / "data"
    data.mkdir()
    add_image(data, "v05", ramp16(), ngff="0.5", shard=128)
    out = tmp_path / "site"
    assert run_publish(data, out).code == 0
    assert (out / "data/v05.ome.zarr/zarr.json").is_file()
    assert site_files(out) == expected_files(data, ["v05"])
    site = static_hosts("nginx", out)
    urls = watch_requests(page)
    assert open_catalog(page, site) == [("v05", f"{site}/view/v05/")]
    got = view_after_click(page)
    size = browser_fixtures.canvas_size(page)
    expected = viewer_reference.view_of(viewer_reference.composite(ramp16()[:, 0], CHANNELS, "additive"),
                                        VIEW["center"], VIEW["zoom"], *size)
    browser_fixtures.assert_close(got, expected)
    assert not page.errors
    assert_same_origin(urls, site)


def test_the_server_uses_the_same_page(data_dir: Path, page: Page, webclient_built: Path) -> None:
    """The page the static site runs is the served one: on `chromatile serve` the catalog still comes
    from /api/images and its link opens /view/<id>, drawn the same."""
    app = chromatile.create_app({"data_dir": data_dir})
    httpd = make_server("127.0.0.1", 0, app, threaded=True, request_handler=browser_fixtures.QuietHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        site = f"http://127.0.0.1:{httpd.server_port}"
        urls = watch_requests(page)
        assert open_catalog(page, site) == [("public", f"{site}/view/public")]
        page.wait_for_function("() => { const i = document.querySelector('.ct-catalog-item img'); "
                               "return i && i.complete && i.naturalWidth > 0; }")
        got = view_after_click(page)
        size = browser_fixtures.canvas_size(page)
        expected = viewer_reference.view_of(viewer_reference.composite(ramp16()[:, 0], CHANNELS, "additive"),
                                            VIEW["center"], VIEW["zoom"], *size)
        browser_fixtures.assert_close(got, expected)
        assert any(u == f"{site}/api/images" for u in urls)
        assert_same_origin(urls, site)
    finally:
        httpd.shutdown()
        thread.join()
