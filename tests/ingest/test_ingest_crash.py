"""Crash safety with real processes and real signals: a killed ingest leaves only a hidden partial
store that the next run removes; Ctrl-C and SIGTERM clean up at once; an existing store is never
damaged, and --overwrite swaps it so that a reader always finds a complete store."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import tifffile
from ingest_helpers import check_pyramid, entries
from werkzeug.serving import make_server

from chromatile import create_app
from chromatile.ingest import ingest


@pytest.fixture(scope="module")
def slow_source(tmp_path_factory):
    """4 x 2048 x 2048 random uint16: with gzip chunks and one worker its ingest takes a few seconds."""
    folder = tmp_path_factory.mktemp("slow")
    a = np.random.default_rng(0).integers(0, 3000, size=(4, 2048, 2048), dtype=np.uint16)
    tifffile.imwrite(folder / "big.tif", a, photometric="minisblack", metadata={"axes": "CYX"}, tile=(256, 256))
    return folder / "big.tif", a


def _default_sigint() -> None:
    # A shell starts background jobs with SIGINT ignored and children inherit that; the Ctrl-C test
    # needs the child to see SIGINT however pytest itself was started.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_slow_ingest(src, dest, *extra):
    return subprocess.Popen([sys.executable, "-m", "chromatile.cli", "ingest", str(src), str(dest), "--quiet",
                             "--workers", "1", "--compression", "gzip", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=_default_sigint)  # noqa: PLW1509 (no threads yet in this child)


def wait_for_chunks(proc, dest, image_id="big"):
    """Block until the running ingest has written chunk files into its partial store; return that store."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, "ingest finished before it could be interrupted"
        partial = [p for p in dest.glob(f".{image_id}.ome.zarr.partial-*")]
        if partial and any((partial[0] / "0" / "0" / "0" / "0" / "0").glob("*")):
            return partial[0]
        time.sleep(0.005)
    raise AssertionError("no chunk written within 60 s")


def test_killed_ingest_leaves_no_store_and_rerun_works(tmp_path, slow_source):
    src, a = slow_source
    dest = tmp_path / "data"
    proc = start_slow_ingest(src, dest)
    partial = wait_for_chunks(proc, dest)
    proc.kill()
    proc.wait()
    assert entries(dest) == [partial.name]  # hidden, never listed or served; no big.ome.zarr

    result = ingest(src, dest)
    assert entries(dest) == ["big.ome.zarr"]  # the dead writer's partial store is gone
    check_pyramid(result.store_path, a[None, :, None])


def _get(port: int, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        conn.request("GET", path)
        answer = conn.getresponse()
        return answer.status, answer.read()
    finally:
        conn.close()


def test_leftover_of_a_killed_ingest_is_ignored_by_the_server_and_removed_by_any_next_ingest(tmp_path, slow_source):
    src, _ = slow_source
    dest = tmp_path / "data"
    proc = start_slow_ingest(src, dest)
    partial = wait_for_chunks(proc, dest)
    proc.kill()
    proc.wait()
    # a partial store of a writer that is still running (this test process) must survive
    alive = dest / f".busy.ome.zarr.partial-{os.getpid()}-0badcafe"
    alive.mkdir()

    # a real server on that DATA_DIR neither lists nor serves the dead writer's leftover
    server = make_server("127.0.0.1", 0, create_app({"data_dir": dest, "webclient_dir": tmp_path / "none"}),
                         threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        status, body = _get(server.server_port, "/api/images")
        assert status == 200 and json.loads(body) in ([], {"images": []}), body
        for path in (f"/data/{partial.name}/.zattrs", f"/data/{partial.name}/0/.zarray",
                     f"/data/{partial.name}/0/0/0/0/0/0", f"/api/images/{partial.name}",
                     "/api/images/big", "/data/big.ome.zarr/.zattrs"):
            status, body = _get(server.server_port, path)
            assert 400 <= status < 500, (path, status)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)

    # the next ingest of ANY id into that DATA_DIR removes it
    small = tmp_path / "small.tif"
    tifffile.imwrite(small, np.ones((70, 90), np.uint16))
    ingest(small, dest, image_id="other", tile=64)
    assert entries(dest) == sorted([alive.name, "other.ome.zarr"])


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_interrupted_ingest_cleans_up(tmp_path, slow_source, sig):
    src, _ = slow_source
    dest = tmp_path / "data"
    proc = start_slow_ingest(src, dest)
    wait_for_chunks(proc, dest)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    assert (proc.returncode, out, err) == (130, "", "chromatile: interrupted\n")
    assert not dest.exists()  # it made DEST_DIR, so it removed it too


def test_killed_overwrite_keeps_the_old_store(tmp_path, slow_source):
    src, a = slow_source
    dest = tmp_path / "data"
    old = tmp_path / "old.tif"
    tifffile.imwrite(old, a[:1, :300, :200], photometric="minisblack", metadata={"axes": "CYX"})
    ingest(old, dest, image_id="big", tile=64)
    before = {p.relative_to(dest): p.read_bytes() for p in dest.rglob("*") if p.is_file()}

    proc = start_slow_ingest(src, dest, "--overwrite")
    wait_for_chunks(proc, dest)
    proc.kill()
    proc.wait()
    store = dest / "big.ome.zarr"
    assert {p.relative_to(dest): p.read_bytes() for p in store.rglob("*") if p.is_file()} == before

    result = ingest(src, dest, overwrite=True)
    assert entries(dest) == ["big.ome.zarr"]
    check_pyramid(result.store_path, a[None, :, None])


def test_overwrite_swap_never_shows_a_missing_store(tmp_path):
    dest = tmp_path / "data"
    images = []
    for value in (1, 2):
        path = tmp_path / f"v{value}.tif"
        tifffile.imwrite(path, np.full((100, 100), value, np.uint16))
        images.append(path)
    ingest(images[0], dest, image_id="img", tile=64)
    store = dest / "img.ome.zarr"
    missing = []
    stop = threading.Event()

    def reader():
        while not stop.is_set():
            if not (store / ".zattrs").is_file() or not (store / "0" / ".zarray").is_file():
                missing.append(time.monotonic())

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for i in range(30):
            ingest(images[i % 2], dest, image_id="img", tile=64, overwrite=True)
    finally:
        stop.set()
        thread.join()
    assert missing == []
    assert entries(dest) == ["img.ome.zarr"]
    with tifffile.TiffFile(images[1]) as tif:
        check_pyramid(store, tif.asarray()[None, None, None])
