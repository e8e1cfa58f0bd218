"""The chunk fast path answers exactly what the careful (Flask) path answers, and only when it may."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from conftest import ADMIN, LiveServer

CHUNK = "/data/ramp.ome.zarr/0/0/0/0/1/3"
VOLATILE = {"Date", "Server", "Connection"}


def hits(live: LiveServer) -> int:
    return live.app.extensions["chromatile.fastpath"].hits


def headers(answer) -> dict[str, str]:
    return {k: v for k, v in answer.headers.items() if k not in VOLATILE}


@pytest.mark.parametrize("cors", ["*", "https://a.example"])
def test_fast_and_careful_paths_answer_the_same_bytes_and_headers(serve_app, data_dir: Path, cors: str) -> None:
    live = serve_app(data_dir, cors_origins=cors)
    origin = {"Origin": "https://a.example"}
    before = hits(live)
    fast = live.get(CHUNK, headers=origin)
    assert hits(live) == before + 1
    careful = live.get(f"{CHUNK}?v=1", headers=origin)  # a query string takes the careful path
    assert hits(live) == before + 1
    assert (fast.status, fast.body) == (careful.status, careful.body) == (
        200, (data_dir / "ramp.ome.zarr/0/0/0/0/1/3").read_bytes())
    assert headers(fast) == headers(careful)
    assert fast.header("Access-Control-Allow-Origin") == ("*" if cors == "*" else "https://a.example")

    etag = fast.header("ETag")
    fast304 = live.get(CHUNK, headers={**origin, "If-None-Match": f'"nope", W/{etag}'})
    careful304 = live.get(f"{CHUNK}?v=1", headers={**origin, "If-None-Match": f'"nope", W/{etag}'})
    assert hits(live) == before + 2
    assert (fast304.status, fast304.body) == (careful304.status, careful304.body) == (304, b"")
    assert headers(fast304) == headers(careful304)

    head = live.get(CHUNK, method="HEAD", headers=origin)
    assert (head.status, head.body) == (200, b"")
    assert headers(head) == headers(fast)


def test_ranges_and_validators_take_the_fast_path_with_the_careful_paths_answers(live: LiveServer) -> None:
    before = hits(live)
    for extra in ({"Range": "bytes=0-9"}, {"Range": "bytes=-5"}, {"Range": "bytes=99999-"},
                  {"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"},
                  {"If-Unmodified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"}):
        fast = live.get(CHUNK, headers=extra)
        careful = live.get(f"{CHUNK}?v=1", headers=extra)
        assert (fast.status, fast.body) == (careful.status, careful.body), extra
        assert fast.header("Content-Range") == careful.header("Content-Range"), extra
    assert hits(live) == before + 5


def test_unusual_requests_take_the_careful_path(live: LiveServer) -> None:
    before = hits(live)
    assert live.get(CHUNK, headers={"Authorization": f"Bearer {ADMIN}"}).status == 200
    assert live.get("/data/ramp.ome.zarr/0/0/1/0/0/0").status == 404  # absent chunk
    assert live.get("/data/ramp.ome.zarr/0/.zarray").status == 200
    live.app.extensions["chromatile"].data.set_private("ramp", True)
    assert live.get(CHUNK).status == 401
    live.app.extensions["chromatile"].data.set_private("ramp", False)
    live.app.extensions["chromatile"].data.withdraw("ramp", "flagged")
    assert live.get(CHUNK).json() == {"error": "image 'ramp' was withdrawn: flagged"}
    assert hits(live) == before


def test_links_and_special_files_under_chunk_names_never_take_the_fast_path(live: LiveServer) -> None:
    level = live.data_dir / "ramp.ome.zarr/0/0/0/0/0"
    os.symlink(level / "0", level / "8")  # a link inside the store: the careful path may serve it
    os.mkfifo(level / "7")  # opening a FIFO for reading would block a worker forever
    before = hits(live)
    linked = live.get("/data/ramp.ome.zarr/0/0/0/0/0/8")
    assert (linked.status, linked.body) == (200, (level / "0").read_bytes())
    t0 = time.monotonic()
    fifo = live.get("/data/ramp.ome.zarr/0/0/0/0/0/7", timeout=5)
    assert 400 <= fifo.status < 500 and time.monotonic() - t0 < 5
    assert hits(live) == before


def test_x_accel_deployments_skip_the_fast_path(serve_app, data_dir: Path) -> None:
    live = serve_app(data_dir, x_accel_prefix="/_stores/")
    assert live.get(CHUNK).header("X-Accel-Redirect") == "/_stores/ramp.ome.zarr/0/0/0/0/1/3"
    assert hits(live) == 0


def test_paths_that_only_look_like_chunks_are_refused_by_the_careful_path(live: LiveServer) -> None:
    for path in ("/data/ramp.ome.zarr/0/0/0/0/1/03x", "/data/..ramp.ome.zarr/0/0/0/0/1/3",
                 "/data/ramp.ome.zarr/0/0/0/0/1/3/", "/data/ramp.ome.zarr/0/0/0/0/1/99999999999"):
        r = live.get(path)
        assert 400 <= r.status < 500, path
        assert set(r.json()) == {"error"}, path
