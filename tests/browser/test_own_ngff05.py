"""Our own `chromatile ingest --ngff 0.5` output, served by `chromatile serve`, in the viewer.

Pixel-exact against NumPy like the 0.4 store of the same pixels; shards are read by Range requests
(the index once, then inner chunks), never downloaded whole; absent inner chunks and shards are fill.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from conftest import assert_close, canvas_size, render
from playwright.sync_api import Page, Request
from served_store import ServedStores, served_ngff05
from viewer_reference import composite, view_of

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, webclient_built: Any) -> Iterator[ServedStores]:
    with served_ngff05(tmp_path_factory.mktemp("own05")) as s:
        yield s


def white(n: int) -> list[dict[str, Any]]:
    colors = ["#ff0000", "#00ff00"]
    return [{"color": colors[i], "window": [0, 65535], "visible": True, "gamma": 1.0, "invert": False,
             "colormap": "color"} for i in range(n)]


def open_store(page: Page, served: ServedStores, image_id: str) -> list[Request]:
    requests: list[Request] = []
    page.on("request", lambda r: requests.append(r))  # noqa: PLW0108 - playwright cannot tag a bound builtin
    page.goto(f"{served.url}/view/{image_id}")
    page.wait_for_function("window.chromatileViewer !== undefined")
    page.evaluate("async () => { await window.chromatileViewer.ready; await window.chromatileViewer.whenIdle(); }")
    return requests


@pytest.mark.parametrize("image_id", ["own5", "own4"])
def test_own_store_is_pixel_exact(page: Page, served: ServedStores, image_id: str) -> None:
    open_store(page, served, image_id)
    chans = white(2)
    for z, view in ((0, {"center": [210, 150], "zoom": 1}), (1, {"center": [300, 200], "zoom": 2})):
        got = render(page, {"z": z, "view": view, "channels": chans})
        expected = view_of(composite(served.pixels[:, z], chans, "additive"), view["center"], view["zoom"],
                           *canvas_size(page))
        assert_close(got, expected)
    labels = page.evaluate("() => window.chromatileViewer.source.channels.map(c => c.label)")
    assert labels == ["ramp", "rows"]
    assert not page.errors  # type: ignore[attr-defined]


def test_shards_are_read_by_range_only(page: Page, served: ServedStores) -> None:
    requests = open_store(page, served, "own5")
    render(page, {"z": 1, "view": {"center": [210, 150], "zoom": 1}, "channels": white(2)})
    reads = [r for r in requests if "/data/own5.ome.zarr/0/c/" in r.url]
    assert reads, "level 0 was read"
    ranges = [r.all_headers().get("range") for r in reads]
    assert all(ranges), f"whole-shard GETs: {[r.url for r, h in zip(reads, ranges, strict=True) if not h]}"
    index = 16 * 16 + 4  # 4 x 4 inner chunks per shard, then the crc32c
    suffix = [r.url for r, h in zip(reads, ranges, strict=True) if h == f"bytes=-{index}"]
    assert len(suffix) == len(set(suffix)), "each shard index is fetched once"
    statuses = {r.url: r.response().status for r in reads if r.response() is not None}  # type: ignore[union-attr]
    assert set(statuses.values()) <= {206, 404}, statuses  # 404: the absent shard (channel 1, lower half)
    assert not page.errors  # type: ignore[attr-defined]
