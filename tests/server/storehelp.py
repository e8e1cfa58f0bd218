"""Tiny stores for the server tests, written straight from docs/store-format.md.

Used until ingest can write them; the tests only rely on the file layout, so which writer made the
store does not change what they check (served bytes == file bytes, metadata == what is on disk).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import imagecodecs
import numcodecs
import numpy as np

CODEC = numcodecs.Zlib(level=1)


def downsample(plane: np.ndarray) -> np.ndarray:
    """2x2 mean rounded half up, odd edge replicated (the store format's rule)."""
    y, x = plane.shape
    padded = np.pad(plane.astype(np.uint32), ((0, y % 2), (0, x % 2)), mode="edge")
    s = padded[0::2, 0::2] + padded[1::2, 0::2] + padded[0::2, 1::2] + padded[1::2, 1::2]
    return ((s + 2) // 4).astype(plane.dtype)


def write_store(data_dir: Path, image_id: str, pixels: np.ndarray, *, tile: int,
                labels: list[str], colors: list[str], pixel_size: float = 0.5) -> Path:
    """Write `data_dir/<id>.ome.zarr` from a (C, Z, Y, X) uint16 array."""
    store = data_dir / f"{image_id}.ome.zarr"
    store.mkdir(parents=True)
    (store / ".zgroup").write_text(json.dumps({"zarr_format": 2}))
    c_count, z_count = pixels.shape[:2]
    level = pixels
    datasets = []
    n = 0
    while True:
        write_level(store / str(n), level, tile)
        f = 2 ** n
        datasets.append({"path": str(n), "coordinateTransformations": [
            {"type": "scale", "scale": [1, 1, 1.0, pixel_size * f, pixel_size * f]}]})
        if level.shape[2] <= tile and level.shape[3] <= tile:
            break
        level = np.stack([np.stack([downsample(level[c, z]) for z in range(z_count)])
                          for c in range(c_count)])
        n += 1
    channels, stats = [], []
    for c in range(c_count):
        data = pixels[c]
        lo, hi = int(data.min()), int(data.max())
        counts, _ = np.histogram(data, bins=16, range=(lo, hi + 1))
        channels.append({"label": labels[c], "color": colors[c], "active": True, "inverted": False,
                         "coefficient": 1, "family": "linear",
                         "window": {"start": lo, "end": max(hi, lo + 1), "min": 0, "max": 65535}})
        stats.append({"min": lo, "max": hi, "histogram": {"range": [lo, hi + 1],
                                                          "counts": [int(v) for v in counts]}})
    attrs = {
        "multiscales": [{"version": "0.4", "name": image_id, "axes": [
            {"name": "t", "type": "time"}, {"name": "c", "type": "channel"},
            {"name": "z", "type": "space", "unit": "micrometer"},
            {"name": "y", "type": "space", "unit": "micrometer"},
            {"name": "x", "type": "space", "unit": "micrometer"}],
            "datasets": datasets, "type": "mean"}],
        "omero": {"name": image_id, "version": "0.4",
                  "rdefs": {"model": "color", "defaultZ": z_count // 2, "defaultT": 0},
                  "channels": channels},
        "chromatile": {"version": 1, "dtype": "uint16", "tile": tile, "channels": stats,
                       "thumbnail": "thumbnail.png",
                       "source": {"path": f"{image_id}.tif", "format": "tiff"}},
    }
    (store / ".zattrs").write_text(json.dumps(attrs, indent=2))
    thumb = (pixels[0, z_count // 2] >> 8).astype(np.uint8)
    (store / "thumbnail.png").write_bytes(imagecodecs.png_encode(thumb))
    return store


def write_level(folder: Path, level: np.ndarray, tile: int) -> None:
    """`.zarray` plus one file per non-zero (1, 1, 1, tile, tile) chunk, edges padded with zeros."""
    c_count, z_count, y, x = level.shape
    folder.mkdir()
    (folder / ".zarray").write_text(json.dumps({
        "zarr_format": 2, "shape": [1, c_count, z_count, y, x], "chunks": [1, 1, 1, tile, tile],
        "dtype": "<u2", "compressor": CODEC.get_config(), "fill_value": 0, "order": "C",
        "filters": None, "dimension_separator": "/"}))
    for c in range(c_count):
        for z in range(z_count):
            for ty in range(math.ceil(y / tile)):
                for tx in range(math.ceil(x / tile)):
                    block = np.zeros((tile, tile), "<u2")
                    part = level[c, z, ty * tile:(ty + 1) * tile, tx * tile:(tx + 1) * tile]
                    block[: part.shape[0], : part.shape[1]] = part
                    if not block.any():
                        continue  # all-zero chunks are left out, as Zarr does
                    path = folder / "0" / str(c) / str(z) / str(ty) / str(tx)
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_bytes(CODEC.encode(block.tobytes()))
