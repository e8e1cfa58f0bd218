"""The viewer opens OME-Zarr stores written by other tools (zarr-python), hosted on another origin.

Each store uses a codec, axis order, chunk key separator or fill value that chromatile's own ingest
does not write; the picture must still match the NumPy reference of the data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numcodecs
import numpy as np
import pytest
import zarr
from conftest import Server, StaticHost, assert_close, canvas_size, render
from playwright.sync_api import Page
from viewer_reference import composite, view_of

pytestmark = pytest.mark.browser


def write_store(path: Path, data: np.ndarray, axes: str, chunks: tuple[int, ...], compressor: Any,
                separator: str, fill: int = 0, levels: int = 1) -> None:
    """An OME-Zarr 0.4 image written with zarr-python (no omero block, no chromatile extras)."""
    root = zarr.open_group(str(path), mode="w", zarr_format=2)
    datasets = []
    level = data
    for n in range(levels):
        arr = root.create_array(str(n), shape=level.shape, chunks=chunks, dtype=level.dtype, compressors=compressor,
                                chunk_key_encoding={"name": "v2", "separator": separator}, fill_value=fill)
        arr[...] = level
        scale = [2.0 ** n if a in "yx" else 1.0 for a in axes.lower()]
        datasets.append({"path": str(n), "coordinateTransformations": [{"type": "scale", "scale": scale}]})
        # Next level: every second pixel along y and x (any downsampling will do for the reader).
        level = level[(Ellipsis, slice(None, None, 2), slice(None, None, 2))]
    root.attrs["multiscales"] = [{
        "version": "0.4", "name": path.stem,
        "axes": [{"name": a, "type": "channel" if a == "c" else "time" if a == "t" else "space"} for a in axes.lower()],
        "datasets": datasets,
    }]


def grey(n: int, window: list[float], colors: list[str] | None = None) -> list[dict[str, Any]]:
    colors = colors or ["#ffffff"] * n
    return [{"color": colors[i], "window": window, "visible": True, "gamma": 1.0, "invert": False, "colormap": "color"}
            for i in range(n)]


def y_x() -> tuple[np.ndarray, np.ndarray]:
    return np.mgrid[0:80, 0:100]


CASES = {
    # name: (data as CYX-compatible planes to show, array written, axes, chunks, compressor, separator, fill)
    "gzip-cyx-dot": lambda: (lambda y, x: np.stack([x * 600, y * 700]).astype(np.uint16))(*y_x()),
    "zlib-czyx": lambda: (lambda y, x: np.stack([(x * 2 + y) % 256, (x * y) % 256]).astype(np.uint8))(*y_x()),
    "zstd-tczyx": lambda: (lambda y, x: np.stack([x * 650, (y * 800) % 60000, (x + y) * 300]).astype(np.uint16))(*y_x()),
    "blosc-lz4-shuffle": lambda: (lambda y, x: np.stack([x * 600 + 7, (100 - x) * 500]).astype(np.uint16))(*y_x()),
    "lz4-yx": lambda: (lambda y, x: ((x * 3 + y * 5) % 256)[None].astype(np.uint8))(*y_x()),
}


def make_case(name: str, root: Path) -> tuple[np.ndarray, str]:
    """Write store `name` under root; returns (planes (C, Y, X) shown at z=0 t=0, store dir name)."""
    planes = CASES[name]()
    path = root / f"{name}.zarr"
    if name == "gzip-cyx-dot":
        write_store(path, planes, "cyx", (1, 32, 32), numcodecs.GZip(level=5), ".", levels=2)
    elif name == "zlib-czyx":
        write_store(path, planes[:, None], "czyx", (1, 1, 40, 48), numcodecs.Zlib(level=6), "/")
    elif name == "zstd-tczyx":
        write_store(path, planes[None, :, None], "tczyx", (1, 1, 1, 50, 50), numcodecs.Zstd(level=3), "/", levels=2)
    elif name == "blosc-lz4-shuffle":
        codec = numcodecs.Blosc(cname="lz4", clevel=5, shuffle=numcodecs.Blosc.SHUFFLE)
        write_store(path, planes[None, :, None], "tczyx", (1, 1, 1, 64, 64), codec, ".")
    elif name == "lz4-yx":
        write_store(path, planes[0], "yx", (30, 30), numcodecs.LZ4(), "/")
    return planes, path.name


@pytest.mark.parametrize("name", list(CASES))
def test_foreign_store_on_another_origin(page: Page, server: Server, static_host: StaticHost, name: str) -> None:
    planes, store = make_case(name, static_host.root)
    top = 255 if planes.dtype == np.uint8 else 65535
    colors = ["#ff0000", "#00ff00", "#0000ff"][: len(planes)] if len(planes) > 1 else ["#ffffff"]
    channels = grey(len(planes), [0, top], colors)
    view = {"center": [64, 64], "zoom": 2}
    page.goto(f"{server.url}/view?url={static_host.url}/{store}")
    page.wait_for_function("window.chromatileViewer !== undefined")
    got = render(page, {"view": view, "channels": channels})
    assert_close(got, view_of(composite(planes, channels, "additive"), view["center"], view["zoom"], *canvas_size(page)))
    source = page.evaluate("() => { const s = window.chromatileViewer.source;"
                           " return {codec: s.levels[0].compressor.id, url: s.url}; }")
    assert source == {"codec": name.split("-")[0], "url": f"{static_host.url}/{store}"}
    # Decoded off the main thread: the pool's workers report their own decode time.
    work = page.evaluate("() => { const v = window.chromatileViewer._viewer;"
                         " return {workers: v.pool.workers.length, decoded: v.stats.decoded}; }")
    assert work["workers"] >= 2 and work["decoded"] >= 1
    assert not page.errors


def test_absent_chunks_use_the_fill_value(page: Page, server: Server, static_host: StaticHost) -> None:
    # zarr-python leaves out chunks equal to the fill value (7): the viewer must draw 7 there, not 0.
    y, x = np.mgrid[0:60, 0:60]
    data = np.full((3, 60, 60), 7, np.uint8)
    data[1] = (x + y + 20).astype(np.uint8)
    data[1, :30, :30] = 7  # one absent chunk in the middle plane too
    write_store(static_host.root / "fill7.zarr", data, "zyx", (1, 30, 30), numcodecs.Zstd(level=1), "/", fill=7)
    assert not (static_host.root / "fill7.zarr" / "0" / "0").exists()
    assert not (static_host.root / "fill7.zarr" / "0" / "1" / "0" / "0").exists()
    page.goto(f"{server.url}/view?url={static_host.url}/fill7.zarr")
    page.wait_for_function("window.chromatileViewer !== undefined")
    channels = grey(1, [0, 100])
    view = {"center": [64, 64], "zoom": 2}
    for zi in (0, 1, 2):
        got = render(page, {"view": view, "z": zi, "channels": channels})
        assert_close(got, view_of(composite(data[None, zi], channels, "additive"), view["center"], view["zoom"],
                                  *canvas_size(page)))
    assert got[:120, :120].min() == round(7 / 100 * 255)
    assert page.evaluate("() => window.chromatileViewer.stats.chunksMissing") >= 5


@pytest.mark.parametrize("axes,chunks,codec", [
    ("czyx", (2, 2, 40, 50), numcodecs.GZip(level=1)),  # 3 channels, 3 planes: edge chunks padded
    ("tczyx", (2, 3, 1, 64, 64), numcodecs.Blosc(cname="zstd", clevel=3, shuffle=numcodecs.Blosc.BITSHUFFLE)),
])
def test_chunks_holding_several_planes_and_channels(page: Page, server: Server, static_host: StaticHost, axes: str,
                                                    chunks: tuple[int, ...], codec: Any) -> None:
    # Writers that chunk across channels or planes (ome-zarr-py's automatic chunks, for instance): each
    # chunk is fetched once and every plane cut out of it.
    y, x = y_x()
    data = np.zeros((2, 3, 3, 80, 100), np.uint16)
    for t in range(2):
        for c in range(3):
            for z in range(3):
                data[t, c, z] = (x * (200 + 100 * c) + y * 50 + z * 7000 + t * 3000) % 65536
    name = f"multi-{axes}.zarr"
    write_store(static_host.root / name, data[0] if axes == "czyx" else data, axes, chunks, codec, "/")
    fetched: list[str] = []
    page.on("request", lambda r: fetched.append(r.url) if f"/{name}/0/" in r.url else None)
    page.goto(f"{server.url}/view?url={static_host.url}/{name}")
    page.wait_for_function("window.chromatileViewer !== undefined")
    channels = grey(3, [0, 65535], ["#ff0000", "#00ff00", "#0000ff"])
    view = {"center": [64, 64], "zoom": 2}
    for t, z in [(0, 1), (0, 2), (1, 0)] if axes == "tczyx" else [(0, 1), (0, 2), (0, 0)]:
        got = render(page, {"view": view, "z": z, "t": t, "channels": channels})
        assert_close(got, view_of(composite(data[t, :, z], channels, "additive"), view["center"], view["zoom"],
                                  *canvas_size(page)))
    assert len(fetched) == len(set(fetched)), "each chunk fetched once for all its planes"
    assert not page.errors
