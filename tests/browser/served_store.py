"""A DATA_DIR holding our own `ingest --ngff 0.5` output (and the 0.4 store of the same pixels), served by
a real `chromatile serve` process on a free loopback port: what a user who ingests with --ngff 0.5 and
serves gets. Used by browser tests of our own 0.5 output (`served_ngff05`)."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tifffile

from chromatile.ingest import ingest

CHROMATILE = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "chromatile"


def ngff05_pixels() -> np.ndarray:
    """(C=2, Z=2, Y=300, X=420) uint16: 5 x 7 tiles of 64 at level 0, shards of 4 x 4 tiles, channel 1 zero
    in its lower half (absent inner chunks and one absent shard per plane)."""
    c, z, y, x = np.mgrid[0:2, 0:2, 0:300, 0:420]
    a = np.where(c == 0, x * 150 + z * 2000, y * 200 + z * 500 + (x % 9) * 40).astype(np.uint16)
    a[1, :, 150:] = 0
    return a


@dataclass
class ServedStores:
    """`chromatile serve` over DATA_DIR: `own5` (--ngff 0.5 --shard 256, tile 64) and `own4` (0.4) of `pixels`."""

    url: str
    data_dir: Path
    pixels: np.ndarray


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def served_ngff05(root: Path) -> Iterator[ServedStores]:
    """Ingest both stores under `root`, run `chromatile serve` until the block ends, then stop it."""
    pixels = ngff05_pixels()
    tif = root / "own.ome.tif"
    tifffile.imwrite(tif, pixels, ome=True, metadata={"axes": "CZYX", "Channel": {"Name": ["ramp", "rows"]}})
    data = root / "data"
    ingest(tif, data, image_id="own5", tile=64, ngff="0.5", shard=256)
    ingest(tif, data, image_id="own4", tile=64)
    port = _free_port()
    proc = subprocess.Popen([str(CHROMATILE), "serve", str(data), "--port", str(port), "--no-access-log"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"chromatile serve exited: {proc.stderr.read().decode() if proc.stderr else ''}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield ServedStores(f"http://127.0.0.1:{port}", data, pixels)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
