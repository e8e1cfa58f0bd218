"""`chromatile serve` gives an OME-Zarr 0.5 store (our `ingest --ngff 0.5`) everything a 0.4 store gets.

The same pixels are ingested as 0.4 (`ramp`) and as 0.5 (`ramp5`); the API must describe both alike,
serve the 0.5 files, apply private/withdrawn, and "save as default" must rewrite `zarr.json` atomically.
A foreign 0.5 store without `omero` is described with the shared defaults of chromatile.storemeta.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import zarr
from conftest import ADMIN, READER, LiveServer, ramp_pixels, write_tiff
from ome_zarr_models.v05.image import Image as ImageV05

from chromatile.ingest import ingest

AUTH = {"Authorization": f"Bearer {ADMIN}", "Content-Type": "application/json"}


def foreign_store(path: Path, channels: int) -> np.ndarray:
    """An OME-Zarr 0.5 image as zarr-python writes it: uint8, no omero block, no chromatile block."""
    a = (np.arange(channels * 40 * 50, dtype=np.uint32).reshape(channels, 40, 50) % 251).astype(np.uint8)
    root = zarr.open_group(str(path), mode="w", zarr_format=3)
    root.create_array("0", shape=a.shape, chunks=(1, 32, 32), dtype="uint8", dimension_names=["c", "y", "x"])[...] = a
    root.attrs["ome"] = {"version": "0.5", "multiscales": [{
        "axes": [{"name": "c", "type": "channel"}, {"name": "y", "type": "space"}, {"name": "x", "type": "space"}],
        "datasets": [{"path": "0", "coordinateTransformations": [{"type": "scale", "scale": [1.0, 1.0, 1.0]}]}]}]}
    return a


@pytest.fixture(scope="module")
def seed05(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("seed05")
    tif = write_tiff(tmp_path_factory.mktemp("tif05") / "ramp.ome.tif", ramp_pixels(), ["DAPI", "GFP"])
    ingest(tif, root, image_id="ramp", tile=64, workers=1)
    ingest(tif, root, image_id="ramp5", tile=64, workers=1, ngff="0.5", shard=128)
    foreign_store(root / "bare5.ome.zarr", 5)
    foreign_store(root / "mono5.ome.zarr", 1)
    return root


@pytest.fixture
def live05(serve_app: Callable[..., LiveServer], seed05: Path, tmp_path: Path) -> LiveServer:
    target = tmp_path / "data05"
    shutil.copytree(seed05, target)
    return serve_app(target)


def test_catalog_lists_the_05_store_like_the_04_one(live05: LiveServer) -> None:
    images = {e["id"]: e for e in live05.get("/api/images").json()["images"]}
    assert sorted(images) == ["bare5", "mono5", "ramp", "ramp5"]
    same = ("shape", "dtype", "levels", "channels", "private")
    assert {k: images["ramp5"][k] for k in same} == {k: images["ramp"][k] for k in same}


def test_metadata_of_the_05_store_equals_the_04_store(live05: LiveServer) -> None:
    old, new = live05.get("/api/images/ramp").json(), live05.get("/api/images/ramp5").json()
    assert (old["ngff"], new["ngff"]) == ("0.4", "0.5")
    for key in ("axes", "shape", "dtype", "tile", "physical_sizes", "channels", "default_z", "default_t",
                "thumbnail", "source"):
        assert new[key] == old[key], key
    assert len(new["levels"]) == len(old["levels"])
    for a, b in zip(old["levels"], new["levels"], strict=True):
        assert (b["shape"], b["chunks"], b["scale"], b["compressor"]) == (a["shape"], a["chunks"], a["scale"],
                                                                             a["compressor"])
        assert (a["shards"], a["dtype"], b["dtype"]) == (None, "<u2", "uint16")
    assert new["levels"][0]["shards"] == [1, 1, 1, 128, 128]  # 140 x 200 px: shards of 2 x 2 tiles
    assert new["levels"][1]["shards"] == [1, 1, 1, 128, 128]  # 70 x 100 px: one shard, capped to the level


def test_05_files_and_thumbnail_are_served(live05: LiveServer) -> None:
    store = live05.data_dir / "ramp5.ome.zarr"
    r = live05.get("/data/ramp5.ome.zarr/zarr.json")
    assert (r.status, r.header("Content-Type")) == (200, "application/json")
    assert r.json() == json.loads((store / "zarr.json").read_text())
    assert live05.get("/data/ramp5.ome.zarr/0/zarr.json").json()["codecs"][0]["name"] == "sharding_indexed"
    shard = live05.get("/data/ramp5.ome.zarr/0/c/0/0/1/0/1")
    assert (shard.status, shard.body) == (200, (store / "0/c/0/0/1/0/1").read_bytes())
    thumb = live05.get("/api/images/ramp5/thumbnail.png")
    assert (thumb.status, thumb.header("Content-Type")) == (200, "image/png")
    assert thumb.body == (store / "thumbnail.png").read_bytes()


def test_private_and_withdrawn_apply_to_05_stores(live05: LiveServer) -> None:
    data = live05.app.extensions["chromatile"].data
    data.set_private("ramp5", True)
    assert live05.get("/api/images/ramp5").status == 401
    assert live05.get("/data/ramp5.ome.zarr/0/c/0/0/1/0/1").status == 401
    assert live05.get("/api/images/ramp5", headers={"Authorization": f"Bearer {READER}"}).status == 200
    assert "ramp5" not in [e["id"] for e in live05.get("/api/images").json()["images"]]
    data.set_private("ramp5", False)
    data.withdraw("ramp5", "consent withdrawn")
    for path in ("/api/images/ramp5", "/data/ramp5.ome.zarr/zarr.json", "/data/ramp5.ome.zarr/0/c/0/0/1/0/1"):
        r = live05.get(path)
        assert r.status == 410, path
    assert "consent withdrawn" in live05.get("/api/images/ramp5").json()["error"]
    assert "ramp5" not in [e["id"] for e in live05.get("/api/images").json()["images"]]


def test_save_as_default_rewrites_zarr_json_atomically(live05: LiveServer) -> None:
    path = live05.data_dir / "ramp5.ome.zarr" / "zarr.json"
    before = json.loads(path.read_text())
    body = {"channels": [{"color": "#ff8000", "window": [100, 5000], "visible": False, "gamma": 0.5,
                          "colormap": "viridis"}, {"invert": True}]}
    r = live05.get("/api/images/ramp5/defaults", method="PUT", headers=AUTH, body=json.dumps(body).encode())
    assert r.status == 200, r.body
    after = json.loads(path.read_text())
    ch0, ch1 = after["attributes"]["ome"]["omero"]["channels"]
    assert (ch0["color"], ch0["active"], ch0["window"]["start"], ch0["window"]["end"]) == ("FF8000", False, 100, 5000)
    assert (ch1["inverted"], ch1["color"]) == (True, before["attributes"]["ome"]["omero"]["channels"][1]["color"])
    assert after["attributes"]["chromatile"]["rendering"] == [{"gamma": 0.5, "colormap": "viridis"},
                                                             {"gamma": 1.0, "colormap": "color"}]
    assert after["attributes"]["ome"]["multiscales"] == before["attributes"]["ome"]["multiscales"]
    assert after["attributes"]["chromatile"]["channels"] == before["attributes"]["chromatile"]["channels"]
    assert (after["zarr_format"], after["node_type"]) == (3, "group")
    store = path.parent
    assert sorted(p.name for p in store.iterdir()) == ["0", "1", "2", "thumbnail.png", "zarr.json"]  # no temp, no .zattrs
    ImageV05.from_zarr(zarr.open_group(str(store), mode="r"))
    meta = live05.get("/api/images/ramp5").json()
    assert (meta["channels"][0]["colormap"], meta["channels"][1]["inverted"]) == ("viridis", True)


def test_store_without_omero_gets_the_shared_defaults(live05: LiveServer) -> None:
    channels = live05.get("/api/images/bare5").json()["channels"]
    assert [c["label"] for c in channels] == [f"Channel {i}" for i in range(5)]
    assert [c["color"] for c in channels] == ["0000FF", "00FF00", "FF0000", "FF00FF", "00FFFF"]
    assert [c["active"] for c in channels] == [True, True, True, True, False]
    assert {json.dumps(c["window"]) for c in channels} == {json.dumps({"start": 0, "end": 255, "min": 0, "max": 255})}
    assert {(c["gamma"], c["colormap"], c["inverted"], c["histogram"]) for c in channels} == {(1.0, "color", False, None)}
    mono = live05.get("/api/images/mono5").json()["channels"]
    assert [(c["label"], c["color"], c["active"]) for c in mono] == [("Channel 0", "FFFFFF", True)]


def test_save_as_default_on_a_store_without_omero_writes_a_complete_block(live05: LiveServer) -> None:
    body = {"channels": [{}, {"color": "#112233"}, {}, {}, {"visible": True}]}
    r = live05.get("/api/images/bare5/defaults", method="PUT", headers=AUTH, body=json.dumps(body).encode())
    assert r.status == 200, r.body
    store = live05.data_dir / "bare5.ome.zarr"
    omero = json.loads((store / "zarr.json").read_text())["attributes"]["ome"]["omero"]
    assert [(c["label"], c["color"], c["active"]) for c in omero["channels"]] == [
        ("Channel 0", "0000FF", True), ("Channel 1", "112233", True), ("Channel 2", "FF0000", True),
        ("Channel 3", "FF00FF", True), ("Channel 4", "00FFFF", True)]
    assert omero["channels"][0]["window"] == {"start": 0, "end": 255, "min": 0, "max": 255}
    ImageV05.from_zarr(zarr.open_group(str(store), mode="r"))  # still a valid 0.5 image
    r = live05.get("/api/images/bare5/defaults", method="PUT", headers=AUTH,
                   body=json.dumps({"channels": [{"window": [0, 300]}, {}, {}, {}, {}]}).encode())
    assert (r.status, r.json()) == (400, {"error": "channels[0].window must be [lo, hi] with 0 <= lo < hi <= 255"})


def test_unusable_omero_fields_fall_back_to_the_defaults_like_the_viewer(live05: LiveServer) -> None:
    """The same tests as the viewer's twin (webclient/src/store/defaults.js): '#rrggbb' is a colour, a
    window bound or gamma that is no number, an empty label or colormap is replaced by its default."""
    store = live05.data_dir / "odd5.ome.zarr"
    foreign_store(store, 3)
    doc = json.loads((store / "zarr.json").read_text())
    doc["attributes"]["ome"]["omero"] = {"channels": [
        {"label": "", "color": "#ff8800", "window": {"start": "low", "end": 200}, "active": False},
        {"label": "two", "color": "red", "window": {"start": 5, "end": None}},
        {"color": "00ff00"},
    ]}
    doc["attributes"]["chromatile"] = {"rendering": [{"gamma": "x", "colormap": ""}, {"gamma": 2}],
                                       "channels": [{}, {"min": 3, "max": 99}]}
    (store / "zarr.json").write_text(json.dumps(doc))
    channels = live05.get("/api/images/odd5").json()["channels"]
    assert [(c["label"], c["color"], c["active"]) for c in channels] == [
        ("Channel 0", "FF8800", False), ("two", "00FF00", True), ("Channel 2", "00FF00", True)]
    assert [(c["window"]["start"], c["window"]["end"]) for c in channels] == [(0, 200), (5, 99), (0, 255)]
    assert [(c["gamma"], c["colormap"]) for c in channels] == [(1.0, "color"), (2.0, "color"), (1.0, "color")]


def test_etag_304_and_cors_on_05_files_and_metadata(live05: LiveServer) -> None:
    origin = {"Origin": "https://elsewhere.example"}
    for path in ("/data/ramp5.ome.zarr/zarr.json", "/data/ramp5.ome.zarr/0/c/0/0/1/0/1", "/api/images/ramp5"):
        first = live05.get(path, headers=origin)
        assert first.status == 200 and first.header("Access-Control-Allow-Origin") == "*", path
        etag = first.header("ETag")
        assert etag, path
        again = live05.get(path, headers={**origin, "If-None-Match": etag})
        assert (again.status, again.body) == (304, b""), path
    # a saved default changes zarr.json, so its ETag and the metadata's change too
    before = live05.get("/api/images/ramp5").header("ETag")
    body = json.dumps({"channels": [{"gamma": 2.0}, {}]}).encode()
    assert live05.get("/api/images/ramp5/defaults", method="PUT", headers=AUTH, body=body).status == 200
    assert live05.get("/api/images/ramp5", headers={"If-None-Match": before}).status == 200
