"""The viewer opens OME-Zarr 0.5 (Zarr v3) stores and containers written by other tools.

Stores come from ome-zarr-py's default writer and zarr-python (sharded or not, with the codecs it
writes), hosted by a plain static server with HTTP Range support on another origin. Each picture must
match the NumPy reference of the data; sharded stores must be read by Range requests only.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
import zarr
from conftest import Server, assert_close, canvas_size, render
from playwright.sync_api import Page
from range_host import RangeHost, range_host
from viewer_reference import composite, view_of
from zarr.codecs import BloscCodec, BytesCodec, Crc32cCodec, GzipCodec, TransposeCodec

with warnings.catch_warnings():  # ome-zarr-py's own module-level use of its deprecated Scaler
    warnings.simplefilter("ignore", DeprecationWarning)
    from ome_zarr.io import parse_url
    from ome_zarr.writer import write_image, write_plate_metadata, write_well_metadata

pytestmark = pytest.mark.browser

VIEW = {"center": [64, 64], "zoom": 2}


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RangeHost]:
    with range_host(tmp_path_factory.mktemp("zarr05")) as h:
        yield h


def channels(n: int, top: int, colors: list[str] | None = None) -> list[dict[str, Any]]:
    colors = colors or (["#ffffff"] if n == 1 else ["#ff0000", "#00ff00", "#0000ff"][:n])
    return [{"color": colors[i], "window": [0, top], "visible": True, "gamma": 1.0, "invert": False, "colormap": "color"}
            for i in range(n)]


def open_url(page: Page, server: Server, url: str) -> None:
    page.goto(f"{server.url}/view?url={url}")
    page.wait_for_function("window.chromatileViewer !== undefined")


def check_view(page: Page, planes: np.ndarray, state: dict[str, Any] | None = None) -> np.ndarray:
    """Render planes (C, Y, X) with a white/red/green window over the full dtype range; compare."""
    top = 255 if planes.dtype == np.uint8 else 65535
    chans = channels(len(planes), top)
    state = {"view": VIEW, "channels": chans, **(state or {})}
    got = render(page, state)
    view = state["view"]
    assert_close(got, view_of(composite(planes, chans, "additive"), view["center"], view["zoom"], *canvas_size(page)))
    return got


def ome_image(group: zarr.Group, data: np.ndarray, axes: str, chunks: tuple[int, ...], levels: int = 2,
              **create: Any) -> None:
    """An OME-Zarr 0.5 image in `group` written with zarr-python; `create` goes to create_array."""
    datasets = []
    level = data
    for n in range(levels):
        arr = group.create_array(str(n), shape=level.shape, chunks=chunks, dtype=level.dtype,
                                 dimension_names=list(axes), **create)
        arr[...] = level
        scale = [2.0 ** n if a in "yx" else 1.0 for a in axes]
        datasets.append({"path": str(n), "coordinateTransformations": [{"type": "scale", "scale": scale}]})
        level = level[..., ::2, ::2]
    group.attrs["ome"] = {"version": "0.5", "multiscales": [{
        "name": "image", "datasets": datasets,
        "axes": [{"name": a, "type": "channel" if a == "c" else "time" if a == "t" else "space"} for a in axes]}]}


# ---- ome-zarr-py's default writer --------------------------------------------------------------------

def omz_data() -> np.ndarray:
    c, z, y, x = np.mgrid[0:2, 0:3, 0:100, 0:130]
    return (np.where(c == 0, x * 500 + z * 97, y * 600 + z * 3000 + (x % 7) * 10)).astype(np.uint16)


@pytest.fixture(scope="module")
def omz_store(host: RangeHost) -> np.ndarray:
    data = omz_data()
    write_image(image=data, group=zarr.group(store=parse_url(str(host.root / "omz.zarr"), mode="w").store), axes="czyx")
    return data


def test_ome_zarr_py_default_writer(page: Page, server: Server, host: RangeHost, omz_store: np.ndarray) -> None:
    meta = json.loads((host.root / "omz.zarr" / "zarr.json").read_text())
    assert meta["attributes"]["ome"]["version"] == "0.5"  # what the writer does by default today
    open_url(page, server, f"{host.url}/omz.zarr")
    for z in (0, 2):
        check_view(page, omz_store[:, z], {"z": z})
    src = page.evaluate("() => { const s = window.chromatileViewer.source;"
                        " return {format: s.format, c: s.sizeC, z: s.sizeZ, levels: s.levels.length}; }")
    assert src == {"format": "0.5", "c": 2, "z": 3, "levels": 5}
    assert not page.errors


def test_0_5_store_gets_the_shared_defaults_readout_and_url_state(page: Page, server: Server, host: RangeHost,
                                                                 omz_store: np.ndarray) -> None:
    # No omero block: the JS twin of the store contract's defaults (docs/store-format.md).
    page.goto(f"{server.url}/view?url={host.url}/omz.zarr#x=40&y=30&zoom=3&z=2")
    page.wait_for_function("window.chromatileViewer !== undefined")
    page.evaluate("() => window.chromatileViewer.whenIdle()")
    state = page.evaluate("() => window.chromatileViewer.getState()")
    assert (state["z"], state["view"]) == (2, {"center": [40, 30], "zoom": 3})
    labels = page.evaluate("() => window.chromatileViewer.source.channels.map(c => c.label)")
    assert labels == ["Channel 0", "Channel 1"]
    assert [c["color"] for c in state["channels"]] == ["#0000ff", "#00ff00"]
    assert [c["window"] for c in state["channels"]] == [[0, 65535], [0, 65535]]
    values = page.evaluate("() => window.chromatileViewer.valuesAt(57, 33).map(v => v.value)")
    assert values == [int(omz_store[0, 2, 33, 57]), int(omz_store[1, 2, 33, 57])]


# ---- zarr-python v3 with sharding ----------------------------------------------------------------------

def sharded_data() -> np.ndarray:
    """(C=2, Z=2, Y=192, X=256) uint16 with fill value 7 over one whole shard and one inner chunk."""
    c, z, y, x = np.mgrid[0:2, 0:2, 0:192, 0:256]
    a = (np.where(c == 0, x * 250 + z * 11, y * 300 + z * 1000) + 100).astype(np.uint16)
    a[1, 0, 64:128, 128:256] = 7  # a whole shard of channel 1, z 0: never written
    a[0, 1, 32:64, 0:32] = 7      # one inner chunk: left out of its shard's index
    return a


@pytest.fixture(scope="module")
def sharded_store(host: RangeHost) -> np.ndarray:
    data = sharded_data()
    root = zarr.open_group(str(host.root / "sharded.zarr"), mode="w", zarr_format=3)
    ome_image(root, data, "czyx", (1, 1, 32, 32), shards=(1, 1, 64, 128), fill_value=7)
    return data


def test_sharded_store_reads_inner_chunks_by_range(page: Page, server: Server, host: RangeHost,
                                                   sharded_store: np.ndarray) -> None:
    shard_dir = host.root / "sharded.zarr" / "0" / "c"
    assert not (shard_dir / "1" / "0" / "1" / "1").exists(), "the all-fill shard is absent"
    first = len(host.log)
    open_url(page, server, f"{host.url}/sharded.zarr")
    for z in (0, 1):
        got = check_view(page, sharded_store[:, z], {"z": z, "view": {"center": [128, 96], "zoom": 1}})
    assert got is not None
    reads = [r for r in host.log[first:] if r.method == "GET" and "/sharded.zarr/0/c/" in r.path]
    assert reads, "level 0 was read"
    assert all(r.range for r in reads), f"whole-shard GETs: {[r.path for r in reads if not r.range]}"
    suffix = [r for r in reads if r.range.startswith("bytes=-")]
    per_shard: dict[str, int] = {}
    for r in suffix:
        per_shard[r.path] = per_shard.get(r.path, 0) + 1
    assert per_shard and max(per_shard.values()) == 1, f"each shard index is read once: {per_shard}"
    index_bytes = 16 * (2 * 4) + 4  # 2 x 4 inner chunks per shard, and the index's crc32c
    assert {r.range for r in suffix} == {f"bytes=-{index_bytes}"}
    inner = [r for r in reads if not r.range.startswith("bytes=-")]
    assert inner and all(re.fullmatch(r"bytes=\d+-\d+", r.range) for r in inner)
    assert any(r.status == 404 for r in suffix), "the absent shard was asked for and is drawn as fill value"
    assert not page.errors


def test_absent_inner_chunk_and_shard_are_fill_value(page: Page, server: Server, host: RangeHost,
                                                    sharded_store: np.ndarray) -> None:
    open_url(page, server, f"{host.url}/sharded.zarr")
    values = page.evaluate("""async () => {
        const v = window.chromatileViewer;
        await v.ready;
        v.setState({view: {center: [150, 90], zoom: 1}, z: 0});
        await v.whenIdle();
        const a = v.valuesAt(200, 100);
        v.setState({z: 1}); await v.whenIdle();
        const b = v.valuesAt(10, 40);
        return [a, b, v._viewer.stats.chunksMissing];
    }""")
    assert values[0] == [{"value": int(sharded_store[0, 0, 100, 200]), "level": 0}, {"value": 7, "level": 0}]
    assert values[1] == [{"value": 7, "level": 0}, {"value": int(sharded_store[1, 1, 40, 10]), "level": 0}]
    assert values[2] >= 2


# ---- the other codecs and chunk key encodings of Zarr v3 ----------------------------------------------

def yx_planes(dtype: type) -> np.ndarray:
    y, x = np.mgrid[0:96, 0:130]
    top = 255 if dtype == np.uint8 else 65535
    return np.stack([(x * 509 + y * 3) % (top + 1), (y * 677 + x) % (top + 1)]).astype(dtype)


V3_CASES: dict[str, dict[str, Any]] = {
    # transpose + big-endian bytes + gzip + crc32c inside shards whose index is at the start
    "shard-index-start-transpose-bigendian-gzip-crc32c": dict(
        chunks=(1, 32, 48), shards={"shape": (2, 64, 96), "index_location": "start"},
        filters=[TransposeCodec(order=(0, 2, 1))], serializer=BytesCodec(endian="big"),
        compressors=[GzipCodec(level=4), Crc32cCodec()]),
    "blosc-v2-keys": dict(chunks=(1, 40, 40), compressors=[BloscCodec(cname="lz4", clevel=5, shuffle="shuffle")],
                          chunk_key_encoding={"name": "v2", "separator": "."}),
    "zstd-dot-separator": dict(chunks=(2, 50, 50), chunk_key_encoding={"name": "default", "separator": "."}),
    # blosc.js undoes bitshuffle itself; blosclz streams go to numcodecs/blosc.
    "blosc-zstd-bitshuffle": dict(chunks=(1, 40, 40), compressors=[BloscCodec(cname="zstd", clevel=3, shuffle="bitshuffle")]),
    "blosc-blosclz": dict(chunks=(1, 40, 40), compressors=[BloscCodec(cname="blosclz", clevel=5, shuffle="shuffle")]),
}


@pytest.mark.parametrize("name", list(V3_CASES))
def test_zarr_v3_codecs_and_keys(page: Page, server: Server, host: RangeHost, name: str) -> None:
    planes = yx_planes(np.uint16)
    root = zarr.open_group(str(host.root / f"{name}.zarr"), mode="w", zarr_format=3)
    ome_image(root, planes, "cyx", **V3_CASES[name])
    open_url(page, server, f"{host.url}/{name}.zarr")
    check_view(page, planes)
    assert not page.errors


# ---- containers ----------------------------------------------------------------------------------------

def write_v2_image(group: zarr.Group, data: np.ndarray) -> None:
    """An OME-Zarr 0.4 image (C, Y, X) as bioformats2raw writes its series."""
    arr = group.create_array("0", shape=data.shape, chunks=(1, 32, 32), dtype=data.dtype,
                             chunk_key_encoding={"name": "v2", "separator": "/"})
    arr[...] = data
    group.attrs["multiscales"] = [{"version": "0.4", "axes": [{"name": "c", "type": "channel"},
                                   {"name": "y", "type": "space"}, {"name": "x", "type": "space"}],
                                   "datasets": [{"path": "0", "coordinateTransformations": [{"type": "scale", "scale": [1, 1, 1]}]}]}]


@pytest.fixture(scope="module")
def b2r_store(host: RangeHost) -> list[np.ndarray]:
    root = zarr.open_group(str(host.root / "b2r.zarr"), mode="w", zarr_format=2)
    root.attrs["bioformats2raw.layout"] = 3
    root.create_group("OME").attrs["series"] = ["0", "1"]
    series = [yx_planes(np.uint8), yx_planes(np.uint8)[::-1, ::-1, ::-1].copy()]
    for i, data in enumerate(series):
        write_v2_image(root.create_group(str(i)), data)
    return series


def wait_for_image_param(page: Page, image: str) -> None:
    """Wait for the page the picker loads (its query names `image`). Not expect_navigation(): the
    viewer's own URL-state update (a hash change, 250 ms after a view change) is a navigation too."""
    page.wait_for_url(lambda url: parse_qs(urlsplit(url).query).get("image") == [image], timeout=30_000)


def test_bioformats2raw_root_opens_series_0_with_a_picker(page: Page, server: Server, host: RangeHost,
                                                          b2r_store: list[np.ndarray]) -> None:
    open_url(page, server, f"{host.url}/b2r.zarr")
    check_view(page, b2r_store[0])
    picker = page.locator(".ct-picker select")
    assert picker.locator("option").all_inner_texts() == ["Series 0", "Series 1"]
    picker.select_option("1")
    wait_for_image_param(page, "1")
    page.wait_for_function("window.chromatileViewer !== undefined")
    check_view(page, b2r_store[1])
    assert page.evaluate("() => window.chromatileViewer.source.url") == f"{host.url}/b2r.zarr/1"


@pytest.fixture(scope="module")
def plate_store(host: RangeHost) -> dict[str, np.ndarray]:
    root = zarr.group(store=parse_url(str(host.root / "plate.zarr"), mode="w").store)
    wells = ["A/1", "A/3", "B/2"]
    write_plate_metadata(root, ["A", "B"], ["1", "2", "3"], wells, field_count=2, name="test plate")
    fields = {}
    for w, well in enumerate(wells):
        row, col = well.split("/")
        wg = root.require_group(row).require_group(col)
        write_well_metadata(wg, [{"path": "0"}, {"path": "1"}])
        for f in (0, 1):
            data = ((yx_planes(np.uint8).astype(np.int32) + 60 * w + 25 * f) % 256).astype(np.uint8)
            write_image(image=data, group=wg.require_group(str(f)), axes="cyx")
            fields[f"{well}/{f}"] = data
    return fields


def test_plate_root_opens_the_first_field_of_the_first_well(page: Page, server: Server, host: RangeHost,
                                                           plate_store: dict[str, np.ndarray]) -> None:
    open_url(page, server, f"{host.url}/plate.zarr")
    check_view(page, plate_store["A/1/0"])
    wells = page.locator(".ct-plate-well")
    assert [w.get_attribute("data-well") for w in wells.all()] == ["A/1", "A/3", "B/2"]
    assert page.locator(".ct-plate td.ct-plate-empty").count() == 3
    page.locator('.ct-plate-well[data-well="B/2"]').click()
    wait_for_image_param(page, "B/2/0")
    page.wait_for_function("window.chromatileViewer !== undefined")
    check_view(page, plate_store["B/2/0"])
    page.locator(".ct-picker select").select_option("B/2/1")
    wait_for_image_param(page, "B/2/1")
    page.wait_for_function("window.chromatileViewer !== undefined")
    check_view(page, plate_store["B/2/1"])
    assert page.locator('.ct-plate-well[aria-pressed="true"]').get_attribute("data-well") == "B/2"
    assert not page.errors


# ---- what is not an image ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def not_images(host: RangeHost, omz_store: np.ndarray) -> None:
    labels = zarr.open_group(str(host.root / "labels.zarr"), mode="w", zarr_format=3)
    labels.attrs["ome"] = {"version": "0.5", "labels": ["cells"]}
    (host.root / "webpage").mkdir()
    (host.root / "webpage" / "zarr.json").write_text("<!DOCTYPE html><html><body><h1>Welcome</h1></body></html>")
    (host.root / "webpage" / ".zattrs").write_text("<!DOCTYPE html><html><body><h1>Welcome</h1></body></html>")


@pytest.mark.parametrize(("path", "says"), [
    ("omz.zarr/s0", "is a single Zarr array"),
    ("labels.zarr", "holds only image labels"),
    ("webpage", "answers with a web page"),
    ("nothing-here", "Nothing to open"),
])
def test_not_an_image_says_what_it_is(page: Page, server: Server, host: RangeHost, not_images: None,
                                      path: str, says: str) -> None:
    open_url(page, server, f"{host.url}/{path}")
    page.wait_for_selector(".ct-message-store")
    text = page.locator(".ct-message-store").inner_text()
    assert says in text and "chromatile opens OME-Zarr images" in text, text
    assert "<" not in text and "\n" not in text.strip()
