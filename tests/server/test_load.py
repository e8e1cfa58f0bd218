"""Load: beyond its concurrency limit the server sheds with 503 + Retry-After, never hangs."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from conftest import fetch


def test_a_full_process_sheds_with_503_and_retry_after(serve_app, data_dir: Path) -> None:
    live = serve_app(data_dir, max_concurrency=2, acquire_timeout=0.05, retry_after=3)
    guard = live.app.extensions["chromatile.guard"]
    assert guard.slots.acquire(timeout=1) and guard.slots.acquire(timeout=1)  # hold both slots
    try:
        r = live.get("/data/ramp.ome.zarr/0/0/0/0/0/0")
        assert (r.status, r.header("Retry-After")) == (503, "3")
        assert "server busy" in r.json()["error"]
        assert r.header("Access-Control-Allow-Origin") == "*"
    finally:
        guard.slots.release()
        guard.slots.release()
    assert live.get("/data/ramp.ome.zarr/0/0/0/0/0/0").status == 200


def test_a_burst_far_beyond_capacity_gets_answers_not_hangs(serve_app, data_dir: Path) -> None:
    live = serve_app(data_dir, max_concurrency=2, acquire_timeout=0.01)
    urls = [f"/data/ramp.ome.zarr/0/0/0/{z}/{y}/{x}" for z in range(3) for y in range(3) for x in range(4)]
    bodies = {u: (data_dir / "ramp.ome.zarr" / u.removeprefix("/data/ramp.ome.zarr/")).read_bytes()
              for u in urls}
    guard = live.app.extensions["chromatile.guard"]
    before = guard.shed
    results: list[tuple[int, str | None, bool]] = []
    lock = threading.Lock()

    def one(i: int) -> None:
        url = urls[i % len(urls)]
        r = fetch(live.url, url, timeout=15)
        with lock:
            results.append((r.status, r.header("Retry-After"), r.status != 200 or r.body == bodies[url]))

    with ThreadPoolExecutor(50) as pool:
        list(pool.map(one, range(200), timeout=60))
    assert len(results) == 200
    assert {s for s, _, _ in results} <= {200, 503}
    assert all(ok for _, _, ok in results)  # every 200 carried the exact file
    assert all(ra == "1" for s, ra, _ in results if s == 503)
    assert sum(s == 503 for s, _, _ in results) == guard.shed - before
    # the process is back to normal at once: all slots free
    assert guard.slots.acquire(timeout=0) and guard.slots.acquire(timeout=0)
    guard.slots.release()
    guard.slots.release()
    assert live.get(urls[0]).status == 200
