"""Catalog and metadata: exact fields from the store, and stores that appear, change or go away."""

from __future__ import annotations

import datetime
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import redis
from conftest import LiveServer, ingest_pixels, ramp_pixels


def test_catalog_lists_every_store(live: LiveServer) -> None:
    r = live.get("/api/images")
    assert r.status == 200
    images = r.json()["images"]
    for entry in images:
        store = live.data_dir / f"{entry['id']}.ome.zarr"
        files = [p for p in store.rglob("*") if p.is_file() and not p.is_symlink()]
        assert entry.pop("size_bytes") == sum(p.stat().st_size for p in files)
        written = datetime.datetime.fromtimestamp(int((store / "0" / ".zarray").stat().st_mtime), datetime.UTC)
        assert entry.pop("ingested") == written.isoformat().replace("+00:00", "Z")
    assert {"images": images} == {"images": [
        {"id": "ramp", "name": "ramp", "shape": {"t": 1, "c": 2, "z": 3, "y": 140, "x": 200},
         "dtype": "uint16", "levels": 3, "channels": ["DAPI", "GFP"], "private": False,
         "url": "/api/images/ramp", "store_url": "/data/ramp.ome.zarr",
         "thumbnail_url": "/api/images/ramp/thumbnail.png", "viewer_url": "/view/ramp"},
        {"id": "small", "name": "small", "shape": {"t": 1, "c": 1, "z": 1, "y": 80, "x": 80},
         "dtype": "uint16", "levels": 2, "channels": ["Actin"], "private": False,
         "url": "/api/images/small", "store_url": "/data/small.ome.zarr",
         "thumbnail_url": "/api/images/small/thumbnail.png", "viewer_url": "/view/small"},
    ]}


def test_metadata_of_one_image(live: LiveServer) -> None:
    meta = live.get("/api/images/ramp").json()
    on_disk = json.loads((live.data_dir / "ramp.ome.zarr/.zattrs").read_text())
    assert meta["shape"] == {"t": 1, "c": 2, "z": 3, "y": 140, "x": 200}
    assert meta["dtype"] == "uint16"
    assert meta["tile"] == 64
    assert [(lv["path"], lv["shape"], lv["downsample"]) for lv in meta["levels"]] == [
        ("0", [1, 2, 3, 140, 200], [1, 1, 1, 1, 1]),
        ("1", [1, 2, 3, 70, 100], [1, 1, 1, 2, 2]),
        ("2", [1, 2, 3, 35, 50], [1, 1, 1, 4, 4]),
    ]
    assert meta["levels"][0]["chunks"] == [1, 1, 1, 64, 64]
    assert meta["physical_sizes"] == {"z": {"size": 1.0, "unit": "micrometer"},
                                      "y": {"size": 0.5, "unit": "micrometer"},
                                      "x": {"size": 0.5, "unit": "micrometer"}}
    assert meta["default_z"] == 1
    dapi, gfp = meta["channels"]
    pixels = ramp_pixels()
    assert (dapi["label"], dapi["min"], dapi["max"]) == ("DAPI", 0, 65535)
    assert (gfp["label"], gfp["min"], gfp["max"]) == ("GFP", 0, 1234)
    for i, ch in enumerate(meta["channels"]):
        omero = on_disk["omero"]["channels"][i]
        assert ch["color"] == omero["color"]
        assert ch["window"] == omero["window"]
        assert ch["histogram"] == on_disk["chromatile"]["channels"][i]["histogram"]
        assert sum(ch["histogram"]["counts"]) == pixels[i].size
    assert gfp["window"]["end"] == 1234
    assert (dapi["gamma"], dapi["colormap"], dapi["active"], dapi["inverted"]) == (1.0, "color", True, False)
    assert meta["store_url"] == "/data/ramp.ome.zarr"
    assert meta["thumbnail_url"] == "/api/images/ramp/thumbnail.png"


def test_thumbnail_is_the_stores_png(live: LiveServer) -> None:
    r = live.get("/api/images/ramp/thumbnail.png")
    assert r.status == 200
    assert r.header("Content-Type") == "image/png"
    assert r.body == (live.data_dir / "ramp.ome.zarr/thumbnail.png").read_bytes()


def test_unknown_and_malformed_ids_are_json_4xx(live: LiveServer) -> None:
    assert live.get("/api/images/nope").json() == {"error": "no image 'nope'"}
    assert live.get("/api/images/nope").status == 404
    bad = live.get("/api/images/-bad")
    assert bad.status == 400
    assert "malformed" in bad.json()["error"]
    assert live.get("/data/nope.ome.zarr/.zattrs").status == 404
    assert live.get("/data/ramp.zarr/.zattrs").status == 404


def test_json_is_gzipped_when_accepted_and_revalidated_by_etag(live: LiveServer) -> None:
    import gzip

    plain = live.get("/api/images/ramp")
    zipped = live.get("/api/images/ramp", headers={"Accept-Encoding": "gzip"})
    assert zipped.header("Content-Encoding") == "gzip"
    assert json.loads(gzip.decompress(zipped.body)) == plain.json()
    again = live.get("/api/images/ramp", headers={"If-None-Match": plain.header("ETag")})
    assert (again.status, again.body) == (304, b"")


def test_stores_appear_change_and_disappear_without_restart(live: LiveServer, tmp_path: Path) -> None:
    ids = lambda: [e["id"] for e in live.get("/api/images").json()["images"]]  # noqa: E731
    assert ids() == ["ramp", "small"]
    assert live.get("/api/images/ramp").json()["channels"][0]["label"] == "DAPI"

    # a new ingest into the running server's DATA_DIR (written hidden, renamed into place)
    ingest_pixels(live.data_dir, "fresh", np.full((1, 1, 8, 8), 7, np.uint16), ["New"], tmp_path)
    assert ids() == ["fresh", "ramp", "small"]
    assert live.get("/api/images/fresh").json()["channels"][0]["label"] == "New"

    # metadata rewritten in place (atomically, as the defaults endpoint does)
    zattrs = live.data_dir / "ramp.ome.zarr/.zattrs"
    attrs = json.loads(zattrs.read_text())
    attrs["omero"]["channels"][0]["label"] = "Hoechst"
    (live.data_dir / "ramp.ome.zarr/.zattrs.new").write_text(json.dumps(attrs))
    os.replace(live.data_dir / "ramp.ome.zarr/.zattrs.new", zattrs)
    assert live.get("/api/images/ramp").json()["channels"][0]["label"] == "Hoechst"

    shutil.rmtree(live.data_dir / "small.ome.zarr")
    assert ids() == ["fresh", "ramp"]
    assert live.get("/api/images/small").status == 404
    assert live.get("/data/small.ome.zarr/.zattrs").status == 404


def test_redis_cache_backend_is_shared_and_invalidated(serve_app, data_dir: Path, redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    live = serve_app(data_dir, cache_type="RedisCache", cache_redis_url=redis_url)
    assert live.get("/api/images/ramp").json()["channels"][1]["label"] == "GFP"
    keys = [k.decode() for k in client.keys("chromatile:*")]
    assert len(keys) == 1 and f":{os.path.realpath(data_dir)}:ramp:" in keys[0]

    # a second app (another process in production) finds the entry: poison it to prove it is read
    other = serve_app(data_dir, cache_type="RedisCache", cache_redis_url=redis_url)
    cache = other.app.extensions["cache"]
    cached_key = keys[0].removeprefix("chromatile:")
    entry = next(iter(cache.values())).get(cached_key)
    entry["name"] = "from-redis"
    next(iter(cache.values())).set(cached_key, entry)
    assert other.get("/api/images/ramp").json()["name"] == "from-redis"

    # changing the store's metadata changes the key: the stale entry is never answered
    zattrs = data_dir / "ramp.ome.zarr/.zattrs"
    attrs = json.loads(zattrs.read_text())
    attrs["omero"]["channels"][1]["label"] = "mCherry"
    (data_dir / "ramp.ome.zarr/.tmp").write_text(json.dumps(attrs))
    os.replace(data_dir / "ramp.ome.zarr/.tmp", zattrs)
    meta = other.get("/api/images/ramp").json()
    assert (meta["name"], meta["channels"][1]["label"]) == ("ramp", "mCherry")
    assert len(client.keys("chromatile:*")) == 2


@pytest.mark.parametrize("broken", ["not json", '{"multiscales": []}'])
def test_a_broken_store_is_a_4xx_and_left_out_of_the_catalog(live: LiveServer, broken: str) -> None:
    (live.data_dir / "small.ome.zarr/.zattrs").write_text(broken)
    r = live.get("/api/images/small")
    assert r.status == 404
    assert "unreadable metadata" in r.json()["error"]
    assert [e["id"] for e in live.get("/api/images").json()["images"]] == ["ramp"]
