"""OME-Zarr 0.5 (Zarr v3) stores served like 0.4 ones, and Range requests into shard files answered on
the fast path: 206 with Content-Range, suffix ranges, 416, If-Range (issue 9 point 6, HTTP part)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import zarr
from conftest import ADMIN, LiveServer, ramp_pixels, write_tiff
from zarr.codecs import BloscCodec, ShardingCodec

from chromatile.ingest import ingest
from chromatile.store import DataDir

SHARD = "/data/sharded.ome.zarr/0/c/0/0/0/0/0"


def hits(live: LiveServer) -> int:
    return live.app.extensions["chromatile.fastpath"].hits


def write_sharded(data_dir: Path, image_id: str = "sharded") -> np.ndarray:
    """A 0.5 store written by zarr-python itself: one 5-D array, shards of 2 x 2 inner chunks."""
    pixels = (np.arange(2 * 3 * 96 * 128, dtype=np.uint16).reshape(1, 2, 3, 96, 128) * 7)
    root = zarr.open_group(data_dir / f"{image_id}.ome.zarr", mode="w", zarr_format=3)
    arr = root.create_array("0", shape=pixels.shape, dtype="uint16", chunks=(1, 1, 1, 32, 32),
                            shards=(1, 1, 1, 64, 64), compressors=BloscCodec(cname="zstd"))
    arr[:] = pixels
    root.attrs["ome"] = {"version": "0.5", "multiscales": [{
        "name": image_id,
        "axes": [{"name": "t", "type": "time"}, {"name": "c", "type": "channel"},
                 {"name": "z", "type": "space"}, {"name": "y", "type": "space"},
                 {"name": "x", "type": "space"}],
        "datasets": [{"path": "0", "coordinateTransformations": [
            {"type": "scale", "scale": [1, 1, 1, 0.5, 0.5]}]}]}]}
    assert isinstance(zarr.open_array(data_dir / f"{image_id}.ome.zarr/0").metadata.codecs[0], ShardingCodec)
    return pixels


@pytest.fixture
def sharded(live: LiveServer) -> LiveServer:
    write_sharded(live.data_dir)
    return live


def test_a_zarr_v3_store_is_served_like_a_v2_one(sharded: LiveServer) -> None:
    ids = [e["id"] for e in sharded.get("/api/images").json()["images"]]
    assert ids == ["ramp", "sharded", "small"]
    meta = sharded.get("/api/images/sharded").json()
    assert meta["shape"] == {"t": 1, "c": 2, "z": 3, "y": 96, "x": 128}
    group = sharded.get("/data/sharded.ome.zarr/zarr.json")
    assert group.status == 200 and group.header("Content-Type") == "application/json"
    assert group.header("Cache-Control") == "no-cache"  # metadata revalidates, like .zattrs
    assert json.loads(group.body)["attributes"]["ome"]["version"] == "0.5"
    assert sharded.get("/data/sharded.ome.zarr/0/zarr.json").status == 200
    whole = sharded.get(SHARD)
    assert whole.status == 200 and whole.header("Cache-Control").startswith("public, max-age=31536000")
    assert whole.body == (sharded.data_dir / "sharded.ome.zarr/0/c/0/0/0/0/0").read_bytes()
    out = sharded.get("/data/sharded.ome.zarr/0/c/0/0/0/0/9")  # 128 / 64 = 2 shards across
    assert out.status == 400 and "out of range" in out.json()["error"]
    assert sharded.get("/data/sharded.ome.zarr/0/0/0/0/0/0").status == 404  # not a v3 key


def test_range_requests_into_a_shard_take_the_fast_path(sharded: LiveServer) -> None:
    body = (sharded.data_dir / "sharded.ome.zarr/0/c/0/0/0/0/0").read_bytes()
    size = len(body)
    before = hits(sharded)
    index = sharded.get(SHARD, headers={"Range": "bytes=-68"})  # 4 inner chunks x 16 B + crc32c
    assert index.status == 206
    assert index.body == body[-68:]
    assert index.header("Content-Range") == f"bytes {size - 68}-{size - 1}/{size}"
    assert index.header("Content-Length") == "68"
    offsets = np.frombuffer(index.body[:64], "<u8").reshape(4, 2)
    for offset, nbytes in offsets:
        part = sharded.get(SHARD, headers={"Range": f"bytes={offset}-{offset + nbytes - 1}"})
        assert (part.status, part.body) == (206, body[offset:offset + nbytes])
    assert sharded.get(SHARD, headers={"Range": "bytes=10-"}).body == body[10:]
    unsatisfiable = sharded.get(SHARD, headers={"Range": f"bytes={size}-"})
    assert unsatisfiable.status == 416
    assert unsatisfiable.header("Content-Range") == f"bytes */{size}"
    assert set(unsatisfiable.json()) == {"error"}
    assert hits(sharded) == before + 7  # none of them went through Flask


def test_if_range(sharded: LiveServer) -> None:
    body = (sharded.data_dir / "sharded.ome.zarr/0/c/0/0/0/0/0").read_bytes()
    first = sharded.get(SHARD, headers={"Range": "bytes=0-15"})
    etag, modified = first.header("ETag"), first.header("Last-Modified")
    same = sharded.get(SHARD, headers={"Range": "bytes=0-15", "If-Range": etag})
    assert (same.status, same.body) == (206, body[:16])
    by_date = sharded.get(SHARD, headers={"Range": "bytes=0-15", "If-Range": modified})
    assert by_date.status == 206
    changed = sharded.get(SHARD, headers={"Range": "bytes=0-15", "If-Range": '"not-this-one"'})
    assert (changed.status, changed.body) == (200, body)  # the file changed: the whole of it
    weak = sharded.get(SHARD, headers={"Range": "bytes=0-15", "If-Range": f"W/{etag}"})
    assert weak.status == 200
    old = sharded.get(SHARD, headers={"Range": "bytes=0-15", "If-Range": "Mon, 01 Jan 2001 00:00:00 GMT"})
    assert old.status == 200
    fresh = sharded.get(SHARD, headers={"If-None-Match": etag, "Range": "bytes=0-15"})
    assert fresh.status == 304


def test_ranges_into_a_withdrawn_or_private_shard_are_refused(sharded: LiveServer) -> None:
    DataDir(sharded.data_dir).set_private("sharded", True)
    assert sharded.get(SHARD, headers={"Range": "bytes=-68"}).status == 401
    auth = {"Authorization": f"Bearer {ADMIN}", "Range": "bytes=-68"}
    private = sharded.get(SHARD, headers=auth)
    assert private.status == 206 and private.header("Cache-Control").startswith("private")
    DataDir(sharded.data_dir).withdraw("sharded")
    assert sharded.get(SHARD, headers={"Range": "bytes=-68"}).status == 410


def test_our_own_05_ingest_is_served_and_its_shards_answer_ranges(live: LiveServer, tmp_path: Path) -> None:
    tif = write_tiff(tmp_path / "r.ome.tif", ramp_pixels(), ["DAPI", "GFP"])
    ingest(tif, live.data_dir, image_id="ramp05", tile=64, workers=1, ngff="0.5", shard=128)
    meta = live.get("/api/images/ramp05").json()
    assert meta["channels"][0]["label"] == "DAPI"
    shards = sorted(p for p in (live.data_dir / "ramp05.ome.zarr/0").rglob("*") if p.is_file()
                    and p.name != "zarr.json")
    rel = shards[0].relative_to(live.data_dir / "ramp05.ome.zarr").as_posix()
    r = live.get(f"/data/ramp05.ome.zarr/{rel}", headers={"Range": "bytes=-16"})
    assert (r.status, r.body) == (206, shards[0].read_bytes()[-16:])
    saved = live.get("/api/images/ramp05/defaults", method="PUT",
                     body=json.dumps({"channels": [{"color": "#FF0000"}, {}]}).encode(),
                     headers={"Authorization": f"Bearer {ADMIN}", "Content-Type": "application/json"})
    assert saved.status == 200 and saved.json()["channels"][0]["color"] == "FF0000"
    doc = json.loads((live.data_dir / "ramp05.ome.zarr/zarr.json").read_text())
    assert doc["attributes"]["ome"]["omero"]["channels"][0]["color"] == "FF0000"
