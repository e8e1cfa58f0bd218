"""Chunks our own 0.4 store lists as absent (`chromatile.absent`) are the fill value without a request:
no 404 for Chromium to log as a red console line. A store without a usable record is read as before
(fetch, 404 = fill value). ramp16's channel 1 at z=0 is zero over tile (ty=0, tx=1), which ingest leaves out."""

from __future__ import annotations

import json
import re
import shutil
from typing import Any

import pytest
from conftest import Server, StaticHost, assert_close, canvas_size, open_viewer, render
from playwright.sync_api import Page
from viewer_reference import composite, view_of

pytestmark = pytest.mark.browser

ABSENT = "ramp16.ome.zarr/0/0/1/0/0/1"  # level 0, t 0, c 1, z 0, ty 0, tx 1
PRESENT = "ramp16.ome.zarr/0/0/1/0/0/0"
CHUNK = re.compile(r"\.ome\.zarr/\d+/\d+/\d+/\d+/\d+/\d+$")  # level/t/c/z/ty/tx
VIEW = {"center": [64, 64], "zoom": 2}  # level 0, tiles (0..1, 0..1) in view
CHANNELS = [{"color": "#ff0000", "window": [0, 65000], "visible": True, "gamma": 1.0, "invert": False, "colormap": "color"},
            {"color": "#00ffff", "window": [0, 60000], "visible": True, "gamma": 1.0, "invert": False, "colormap": "color"}]


def is_chunk(url: str) -> bool:
    return bool(CHUNK.search(url.split("?")[0]))


def watch(page: Page) -> dict[str, list[Any]]:
    """Chunk requests, chunk 404 responses and console errors about chunks of the page, from now on.
    (The metadata probe's one 404, `zarr.json` of a 0.4 store, is not a chunk and not counted here.)"""
    seen: dict[str, list[Any]] = {"requests": [], "404": [], "console": []}
    page.on("request", lambda r: is_chunk(r.url) and seen["requests"].append(r.url.split("?")[0]))
    page.on("response", lambda r: r.status == 404 and is_chunk(r.url) and seen["404"].append(r.url.split("?")[0]))
    page.on("console", lambda m: m.type == "error" and is_chunk(m.location.get("url", ""))
            and seen["console"].append(f"{m.text} ({m.location['url']})"))
    return seen


def draw_z0_and_check(page: Page, server: Server) -> None:
    got = render(page, {"view": VIEW, "z": 0, "channels": CHANNELS})
    page.wait_for_function("window.chromatileViewer.settled")
    planes = server.arrays["ramp16"][:, 0]
    assert planes[1, 0:64, 64:128].max() == 0  # the left-out tile is in view
    assert_close(got, view_of(composite(planes, CHANNELS, "additive"), VIEW["center"], VIEW["zoom"], *canvas_size(page)))


def test_our_store_sends_no_request_for_an_absent_chunk(page: Page, server: Server) -> None:
    assert not (server.data_dir / ABSENT).exists() and (server.data_dir / PRESENT).is_file()
    seen = watch(page)
    open_viewer(page, server, "ramp16")
    draw_z0_and_check(page, server)
    assert any(u.endswith(PRESENT) for u in seen["requests"]), "the plane's other chunks are fetched"
    assert not any(u.endswith(ABSENT) for u in seen["requests"]), "the absent chunk is not requested"
    assert seen["404"] == []
    assert seen["console"] == []
    assert not page.errors


@pytest.mark.parametrize("record", ["missing", "other grid", "not runs"])
def test_a_store_without_a_usable_record_is_read_as_before(page: Page, server: Server, static_host: StaticHost,
                                                           record: str) -> None:
    name = f"absent-{record.replace(' ', '-')}.ome.zarr"
    store = static_host.root / name
    shutil.rmtree(store, ignore_errors=True)
    shutil.copytree(server.data_dir / "ramp16.ome.zarr", store)
    attrs = json.loads((store / ".zattrs").read_text())
    if record == "missing":
        del attrs["chromatile"]["absent"]
    elif record == "other grid":
        attrs["chromatile"]["absent"][0]["grid"][-1] += 1  # written for another shape: not trusted
    else:
        attrs["chromatile"]["absent"][0]["runs"] = ["all"]
    (store / ".zattrs").write_text(json.dumps(attrs))
    seen = watch(page)
    page.goto(f"{server.url}/view?url={static_host.url}/{name}")
    page.wait_for_function("window.chromatileViewer !== undefined")
    page.evaluate("async () => { await window.chromatileViewer.ready; await window.chromatileViewer.whenIdle(); }")
    draw_z0_and_check(page, server)
    absent_url = f"{static_host.url}/{name}/0/0/1/0/0/1"
    assert absent_url in seen["requests"] and absent_url in seen["404"], "fetched, and its 404 is the fill value"
    assert seen["console"], "Chromium logs the 404 (what the record spares our own stores)"
    assert not page.errors


@pytest.mark.parametrize("image_id", ["ramp16", "six8"])
def test_new_tile_textures_are_zero_filled_without_a_webgl_error(page: Page, server: Server, image_id: str) -> None:
    # Each new tile texture is filled with zeros in one copy from a buffer of zeros on the GPU
    # (texture-cache.js), 16- and 8-bit, edge tiles smaller than the chunk included: a wrong size,
    # type or alignment there is a WebGL error (and leaves the texture to the browser's slower clear).
    open_viewer(page, server, image_id)
    if image_id == "ramp16":
        draw_z0_and_check(page, server)  # the left-out chunk's layer shows the zeros of the fill
    else:
        page.wait_for_function("window.chromatileViewer.settled")
    assert page.evaluate("() => window.chromatileViewer._viewer.renderer.gl.getError()") == 0
