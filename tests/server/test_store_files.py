"""GET /data/<id>.ome.zarr/<path>: exact bytes, validators, 304, ranges, CORS, absent chunks."""

from __future__ import annotations

import json

import numcodecs
import numpy as np
from conftest import LiveServer, ramp_pixels

CHUNK = "/data/ramp.ome.zarr/0/0/0/0/1/3"


def test_chunk_bytes_are_the_file_bytes_and_decode_to_the_pixels(live: LiveServer) -> None:
    r = live.get(CHUNK)
    assert r.status == 200
    assert r.body == (live.data_dir / "ramp.ome.zarr/0/0/0/0/1/3").read_bytes()
    zarray = json.loads((live.data_dir / "ramp.ome.zarr/0/.zarray").read_text())
    codec = numcodecs.get_codec(zarray["compressor"])
    tile = np.frombuffer(codec.decode(r.body), "<u2").reshape(64, 64)
    expected = ramp_pixels()[0, 0, 64:128, 192:200]
    assert np.array_equal(tile[:, :8], expected)
    assert not tile[:, 8:].any()  # the edge chunk is padded with the fill value
    assert r.header("Content-Type") == "application/octet-stream"
    assert r.header("Content-Length") == str(len(r.body))


def test_chunk_headers_let_every_cache_keep_it(live: LiveServer) -> None:
    r = live.get(CHUNK)
    st = (live.data_dir / "ramp.ome.zarr/0/0/0/0/1/3").stat()
    assert r.header("ETag") == f'"{st.st_ino:x}-{st.st_size:x}-{st.st_mtime_ns:x}"'
    assert r.header("Cache-Control") == "public, max-age=31536000, immutable"
    assert r.header("Last-Modified")
    assert r.header("Accept-Ranges") == "bytes"
    assert r.header("Access-Control-Allow-Origin") == "*"
    assert "ETag" in r.header("Access-Control-Expose-Headers")


def test_metadata_files_are_json_and_revalidated(live: LiveServer) -> None:
    for name in (".zattrs", ".zgroup", "0/.zarray", "2/.zarray"):
        r = live.get(f"/data/ramp.ome.zarr/{name}")
        assert r.status == 200, name
        assert r.body == (live.data_dir / "ramp.ome.zarr" / name).read_bytes()
        assert r.header("Content-Type") == "application/json"
        assert r.header("Cache-Control") == "no-cache"


def test_if_none_match_answers_304_without_body(live: LiveServer) -> None:
    etag = live.get(CHUNK).header("ETag")
    r = live.get(CHUNK, headers={"If-None-Match": etag})
    assert (r.status, r.body, r.header("ETag")) == (304, b"", etag)
    assert live.get(CHUNK, headers={"If-None-Match": '"other"'}).status == 200


def test_if_modified_since_answers_304(live: LiveServer) -> None:
    last = live.get(CHUNK).header("Last-Modified")
    r = live.get(CHUNK, headers={"If-Modified-Since": last})
    assert (r.status, r.body) == (304, b"")
    old = live.get(CHUNK, headers={"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"})
    assert old.status == 200


def test_range_answers_206_with_exact_bytes(live: LiveServer) -> None:
    whole = (live.data_dir / "ramp.ome.zarr/0/0/0/0/1/3").read_bytes()
    r = live.get(CHUNK, headers={"Range": "bytes=10-99"})
    assert r.status == 206
    assert r.body == whole[10:100]
    assert r.header("Content-Range") == f"bytes 10-99/{len(whole)}"
    tail = live.get(CHUNK, headers={"Range": "bytes=-5"})
    assert (tail.status, tail.body) == (206, whole[-5:])
    bad = live.get(CHUNK, headers={"Range": f"bytes={len(whole) + 10}-"})
    assert bad.status == 416
    assert "error" in bad.json()


def test_absent_chunk_inside_the_grid_is_404_with_empty_body(live: LiveServer) -> None:
    # channel 1 is zero everywhere except one tile of z=1, so this chunk was left out
    assert not (live.data_dir / "ramp.ome.zarr/0/0/1/0/0/0").exists()
    r = live.get("/data/ramp.ome.zarr/0/0/1/0/0/0")
    assert (r.status, r.body) == (404, b"")
    assert r.header("Access-Control-Allow-Origin") == "*"
    assert live.get("/data/ramp.ome.zarr/0/0/1/1/0/0").status == 200


def test_chunk_outside_the_grid_is_a_json_400(live: LiveServer) -> None:
    r = live.get("/data/ramp.ome.zarr/0/0/0/0/3/0")  # 70 rows / 32 = 3 chunk rows: 0..2
    assert r.status == 400
    assert r.json() == {"error": "chunk index 3 on axis 3 of level 0 is out of range (the grid has 3)"}
    assert live.get("/data/ramp.ome.zarr/0/0/2/0/0/0").status == 400  # 2 channels
    assert live.get("/data/ramp.ome.zarr/7/0/0/0/0/0").json() == {"error": "no level '7' in this store"}


def test_cors_origin_list_and_preflight(serve_app, data_dir) -> None:
    live = serve_app(data_dir, cors_origins="https://a.example, https://b.example")
    ok = live.get(CHUNK, headers={"Origin": "https://b.example"})
    assert ok.header("Access-Control-Allow-Origin") == "https://b.example"
    assert "Origin" in ok.header("Vary")
    other = live.get(CHUNK, headers={"Origin": "https://evil.example"})
    assert other.header("Access-Control-Allow-Origin") is None
    pre = live.get(CHUNK, method="OPTIONS", headers={
        "Origin": "https://a.example", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "range, authorization"})
    assert pre.status == 200
    assert pre.header("Access-Control-Allow-Origin") == "https://a.example"
    assert "Range" in pre.header("Access-Control-Allow-Headers")
    assert "Authorization" in pre.header("Access-Control-Allow-Headers")


def test_head_has_headers_and_no_body(live: LiveServer) -> None:
    r = live.get(CHUNK, method="HEAD")
    size = (live.data_dir / "ramp.ome.zarr/0/0/0/0/1/3").stat().st_size
    assert (r.status, r.body, r.header("Content-Length")) == (200, b"", str(size))


def test_shared_max_age_bounds_cdn_caching_but_not_the_browser(serve_app, data_dir) -> None:
    live = serve_app(data_dir, shared_max_age=300)
    assert live.get(CHUNK).header("Cache-Control") == "public, max-age=31536000, immutable, s-maxage=300"


def test_x_accel_redirect_hands_the_send_to_nginx_after_the_checks(serve_app, data_dir) -> None:
    live = serve_app(data_dir, x_accel_prefix="/_stores/")
    r = live.get(CHUNK)
    assert (r.status, r.body) == (200, b"")
    assert r.header("X-Accel-Redirect") == "/_stores/ramp.ome.zarr/0/0/0/0/1/3"
    assert r.header("Cache-Control") == "public, max-age=31536000, immutable"
    live.app.extensions["chromatile"].data.withdraw("ramp")
    assert live.get(CHUNK).status == 410
