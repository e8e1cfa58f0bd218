"""Missing chunks render as the fill value; failures show a message, never a blank canvas."""

from __future__ import annotations

import numcodecs
import numpy as np
import pytest
from conftest import Server, StaticHost, open_viewer, render
from playwright.sync_api import Page
from test_reader import write_store

from chromatile.store import DataDir

pytestmark = pytest.mark.browser


def messages(page: Page) -> dict[str, str]:
    return page.evaluate(
        "() => Object.fromEntries([...document.querySelectorAll('.ct-message')].map(e => [e.dataset.kind, e.textContent]))"
    )


def test_missing_chunk_renders_as_fill_value_without_error(page: Page, server: Server) -> None:
    # Channel 1 of z=0 is all zero over tile (ty=0, tx=1): ingest leaves that chunk out.
    assert not (server.data_dir / "ramp16.ome.zarr" / "0" / "0" / "1" / "0" / "0" / "1").exists()
    open_viewer(page, server, "ramp16")
    channels = [{"visible": False}, {"visible": True, "color": "#ffffff", "window": [0, 1000], "colormap": "color",
                                     "gamma": 1, "invert": False}]
    img = render(page, {"view": {"center": [64, 64], "zoom": 2}, "z": 0, "channels": channels})
    assert (img[:128, 128:256] == 0).all(), "the absent tile shows the fill value 0"
    assert (img[:128, 2:128] == 255).all() or img[:128, :128].mean() > 200, "its neighbour shows data"
    assert page.evaluate("() => window.chromatileViewer.stats.chunksMissing") >= 1
    assert messages(page) == {}
    assert not page.errors


def test_withdrawn_image_shows_the_server_message(page: Page, server: Server) -> None:
    DataDir(server.data_dir).withdraw("gone", "test withdrawal")
    # The server answers 410 on /view/gone itself; a viewer holding the store URL shows why it fails.
    page.goto(f"{server.url}/view?url=/data/gone.ome.zarr")
    page.wait_for_selector(".ct-message-store")
    text = messages(page)["store"]
    assert "HTTP 410" in text and "/data/gone.ome.zarr/.zattrs" in text


def test_an_image_withdrawn_while_open_shows_one_clear_notice(page: Page, server: Server) -> None:
    data = DataDir(server.data_dir)
    open_viewer(page, server, "late")
    try:
        data.withdraw("late", "withdrawn while open")
        # Plane 0 is far from the prefetched neighbours of plane 6, so its tiles are requested now.
        page.evaluate("async () => { window.chromatileViewer.setZ(0); await window.chromatileViewer.whenIdle(); }")
        page.wait_for_selector(".ct-message-withdrawn")
        text = messages(page)["withdrawn"]
        assert text.startswith("This image was withdrawn") and "withdrawn while open" in text
        assert "tile" not in messages(page), "no climbing 'N tiles failed: HTTP 410' counter"
        assert page.evaluate("() => window.chromatileViewer.stats.requestsFailed") == 0
        # It stays one notice: moving on asks the server nothing more.
        before = page.evaluate("() => window.chromatileViewer.stats.requests")
        page.evaluate("async () => { const v = window.chromatileViewer; v.setZ(11); v.setZ(3); await v.whenIdle(); }")
        assert page.evaluate("() => window.chromatileViewer.stats.requests") == before
        assert list(messages(page)) == ["withdrawn"]
    finally:
        data.restore("late")


def test_no_webgl2_shows_a_message(page: Page, server: Server) -> None:
    page.add_init_script(
        """const original = HTMLCanvasElement.prototype.getContext;
           HTMLCanvasElement.prototype.getContext = function (kind, ...rest) {
             return kind === 'webgl2' ? null : original.call(this, kind, ...rest);
           };"""
    )
    page.goto(f"{server.url}/view/ramp16")
    page.wait_for_selector(".ct-message-webgl")
    assert "WebGL2" in messages(page)["webgl"]


def test_unreadable_store_url_shows_a_message(page: Page, server: Server) -> None:
    page.goto(f"{server.url}/view?url={server.url}/data/nosuchimage.ome.zarr")
    page.wait_for_selector(".ct-message-store")
    assert "HTTP 404" in messages(page)["store"]


def test_corrupt_chunk_shows_a_message_and_the_rest_draws(page: Page, server: Server, static_host: StaticHost) -> None:
    # A chunk that is not valid gzip: the decode worker rejects it, the other tiles still draw.
    data = np.full((1, 64, 64), 200, np.uint8)
    write_store(static_host.root / "corrupt.zarr", data, "cyx", (1, 32, 32), numcodecs.GZip(), "/")
    (static_host.root / "corrupt.zarr" / "0" / "0" / "1" / "1").write_bytes(b"this is not gzip")
    page.goto(f"{server.url}/view?url={static_host.url}/corrupt.zarr")
    page.wait_for_function("window.chromatileViewer !== undefined")
    img = render(page, {"view": {"center": [32, 32], "zoom": 4}, "channels": [
        {"color": "#ffffff", "window": [0, 200], "visible": True, "gamma": 1, "invert": False, "colormap": "color"}]})
    page.wait_for_selector(".ct-message-tile")
    assert "1 tile failed to load" in messages(page)["tile"]
    assert (img[:128, :128] == 255).all() and (img[:128, 128:] == 255).all() and (img[128:, :128] == 255).all()
    assert page.evaluate("() => window.chromatileViewer.stats.requestsFailed") == 1


def test_a_failed_channel_of_a_drawn_tile_is_zeros(page: Page, server: Server, static_host: StaticHost) -> None:
    # Channels 0 and 9 of 12 shown; channel 9's chunk of one tile is corrupt. That tile still draws
    # channel 0, with channel 9 as zeros: its texture has fewer than 10 layers (the channels it holds,
    # rounded up), so channel 9 does not sit in layer 9 but in a layer of its own, which stays zeros when
    # its chunk fails (first or after channel 0).
    data = np.zeros((12, 64, 64), np.uint8)
    data[0], data[9] = 100, 200
    write_store(static_host.root / "failed9.zarr", data, "cyx", (1, 32, 32), numcodecs.GZip(), "/")
    (static_host.root / "failed9.zarr" / "0" / "9" / "1" / "1").write_bytes(b"this is not gzip")
    page.goto(f"{server.url}/view?url={static_host.url}/failed9.zarr")
    page.wait_for_function("window.chromatileViewer !== undefined")
    hidden = {"color": "#ffffff", "window": [0, 255], "visible": False, "gamma": 1, "invert": False, "colormap": "color"}
    channels = [dict(hidden) for _ in range(12)]
    channels[0] = dict(hidden, color="#00ff00", window=[0, 200], visible=True)
    channels[9] = dict(hidden, color="#ff0000", window=[0, 200], visible=True)
    img = render(page, {"view": {"center": [32, 32], "zoom": 4}, "channels": channels})
    page.wait_for_selector(".ct-message-tile")
    for part in (img[:128, :128], img[:128, 128:256], img[128:256, :128]):
        assert (part == [255, 128, 0]).all(), np.unique(part.reshape(-1, 3), axis=0)
    assert (img[128:256, 128:256] == [0, 128, 0]).all(), np.unique(img[128:256, 128:256].reshape(-1, 3), axis=0)
    tiles = page.evaluate("""() => [...window.chromatileViewer._viewer.cache.entries.values()]
        .filter((e) => e.level === 0).map((e) => [e.layers, e.slot[9]])""")
    assert len(tiles) == 4 and all(layers < 10 and 0 <= slot < layers for layers, slot in tiles), tiles
    assert page.evaluate("() => window.chromatileViewer._viewer.renderer.gl.getError()") == 0


def test_a_foreign_servers_error_page_is_never_shown_raw(page: Page, server: Server, static_host: StaticHost) -> None:
    # Python's http.server answers a missing file with an HTML error page: the message keeps the status only.
    page.goto(f"{server.url}/view?url={static_host.url}/no-such-store.zarr")
    page.wait_for_selector(".ct-message-store")
    text = messages(page)["store"]
    assert "HTTP 404" in text or "Nothing to open" in text, text
    assert "<" not in text and "DOCTYPE" not in text.upper() and "Error response" not in text, text
