"""Helpers of the ingest tests: reference downsample, store readers, CLI runner."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import zarr
from ome_zarr_models.v04.image import Image

REPO = Path(__file__).resolve().parents[2]


def reference_downsample(a: np.ndarray) -> np.ndarray:
    """Independent 2x2 mean over the last two axes: edge replicated, rounded half up, same dtype."""
    h, w = a.shape[-2:]
    padded = np.pad(a, [(0, 0)] * (a.ndim - 2) + [(0, h % 2), (0, w % 2)], mode="edge").astype(np.int64)
    blocks = padded.reshape(*a.shape[:-2], padded.shape[-2] // 2, 2, padded.shape[-1] // 2, 2)
    return np.floor(blocks.sum(axis=(-3, -1)) / 4 + 0.5).astype(a.dtype)


def open_store(path: Path) -> zarr.Group:
    """The store as zarr-python sees it (Zarr v2)."""
    return zarr.open_group(str(path), mode="r", zarr_format=2)


def level(path: Path, n: int) -> np.ndarray:
    """All pixels of level n through zarr-python."""
    return open_store(path)[str(n)][...]


def zattrs(path: Path) -> dict:
    """The parsed `.zattrs`."""
    return json.loads((path / ".zattrs").read_text())


def check_pyramid(path: Path, source: np.ndarray) -> int:
    """Level 0 equals ``source`` (5-D) exactly; every level equals the reference downsample of the one above;
    the last level is the first that fits one tile; the store validates as OME-NGFF 0.4."""
    Image.from_zarr(open_store(path))  # raises on anything OME-NGFF 0.4 forbids
    attrs = zattrs(path)
    paths = [d["path"] for d in attrs["multiscales"][0]["datasets"]]
    above = level(path, 0)
    assert above.dtype == source.dtype
    np.testing.assert_array_equal(above, source)
    for p in paths[1:]:
        below = level(path, int(p))
        np.testing.assert_array_equal(below, reference_downsample(above))
        above = below
    tile = attrs["chromatile"]["tile"]
    assert max(above.shape[-2:]) <= tile
    if len(paths) > 1:
        assert max(level(path, len(paths) - 2).shape[-2:]) > tile  # no level more than needed
    return len(paths)


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """`python -m chromatile.cli ARGS` in a child process."""
    env = dict(os.environ, PYTHONWARNINGS="error")
    return subprocess.run([sys.executable, "-m", "chromatile.cli", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=120, check=False)


def entries(folder: Path) -> list[str]:
    """Everything in a folder, hidden names included."""
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []
