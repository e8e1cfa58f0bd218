"""Synthetic but microscopy-like multichannel Z-stacks, generated tile by tile.

Every pixel is a deterministic function of its global coordinates (structures are placed by hashing
grid cells), so any tile can be computed alone and memory stays flat for tens of gigapixels.

Channels cycle through three kinds: nuclei (blobs, DAPI-like), membranes (rings around the nuclei
with a faint cytoplasm) and filaments (curved lines). Each plane gets out-of-focus blur that grows
with the distance from a focal Z, a camera offset, shot noise and read noise.
"""

from __future__ import annotations

import math
import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import tifffile

CHANNEL_NAMES = ("DAPI", "Membrane", "Tubulin")
CHANNEL_COLORS = ("0000FF", "00FF00", "FF0000", "FF00FF", "00FFFF", "FFFF00")
PIXEL_SIZE_XY = 0.325  # micrometer, a 20x objective on a typical sCMOS
PIXEL_SIZE_Z = 1.0
OFFSET = 100  # camera offset (counts)
GAIN = {0: 2600.0, 1: 1400.0, 2: 2200.0}  # peak signal per kind (counts)
NUCLEUS_CELL = 40  # one nucleus at most per NUCLEUS_CELL x NUCLEUS_CELL pixels
FILAMENT_CELL = 128
FILAMENTS_PER_CELL = 2
FILAMENT_LENGTH = 360  # pixels, the longest


def _mix(h: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser on uint64 arrays (wrap-around arithmetic)."""
    h = h ^ (h >> np.uint64(30))
    h = h * np.uint64(0xBF58476D1CE4E5B9)
    h = h ^ (h >> np.uint64(27))
    h = h * np.uint64(0x94D049BB133111EB)
    out: np.ndarray = h ^ (h >> np.uint64(31))
    return out


def uniform(*keys: np.ndarray | int) -> np.ndarray:
    """Deterministic uniform [0, 1) numbers from integer keys (broadcast together)."""
    arrays = np.broadcast_arrays(*(np.asarray(k, dtype=np.int64) for k in keys))
    h = np.full(arrays[0].shape, 0x243F6A8885A308D3, dtype=np.uint64)
    for k in arrays:
        h = _mix(h ^ (k.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)))
    return (h >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def _blur_radius(z: int, size_z: int) -> int:
    """Box radius of the defocus blur: 1 in the focal plane, growing with distance from it."""
    focal = (size_z - 1) / 2
    return 1 + round(1.2 * abs(z - focal))


def _box_blur(a: np.ndarray, r: int) -> np.ndarray:
    """Separable box blur of radius r (twice applied it approximates a Gaussian); keeps shape."""
    for axis in (0, 1):
        c = np.cumsum(a, axis=axis, dtype=np.float64)
        c = np.concatenate([np.zeros_like(c.take([0], axis=axis)), c], axis=axis)
        n = a.shape[axis]
        hi = np.minimum(np.arange(n) + r + 1, n)
        lo = np.maximum(np.arange(n) - r, 0)
        a = (c.take(hi, axis=axis) - c.take(lo, axis=axis)) / (2 * r + 1)
    return a


def _nuclei(kind: int, z: int, size_z: int, y0: int, x0: int, h: int, w: int, seed: int) -> np.ndarray:
    """Nuclei (kind 0) or membranes + cytoplasm around them (kind 1), sharp, on region y0.., x0.."""
    canvas = np.zeros((h, w), np.float64)
    reach = 30  # largest cell radius around a nucleus
    gy = np.arange((y0 - reach) // NUCLEUS_CELL, (y0 + h + reach) // NUCLEUS_CELL + 1)
    gx = np.arange((x0 - reach) // NUCLEUS_CELL, (x0 + w + reach) // NUCLEUS_CELL + 1)
    cy, cx = np.meshgrid(gy, gx, indexing="ij")
    u = [uniform(seed, 1, cy, cx, k).ravel() for k in range(9)]
    present = u[0] < 0.85
    centre_y = (cy.ravel() + 0.15 + 0.7 * u[1]) * NUCLEUS_CELL
    centre_x = (cx.ravel() + 0.15 + 0.7 * u[2]) * NUCLEUS_CELL
    radius = 7.0 + 6.0 * u[3]
    ratio = 0.7 + 0.3 * u[4]
    angle = np.pi * u[5]
    centre_z = u[6] * (size_z - 1) if size_z > 1 else np.zeros_like(u[6])
    bright = 0.55 + 0.45 * u[7]
    depth = max(2.0, min(5.0, size_z / 3))  # half thickness of a nucleus in slices (1 um steps)
    for i in np.flatnonzero(present):
        dz = (z - centre_z[i]) / depth
        if abs(dz) >= 1.0:
            continue
        section = math.sqrt(1.0 - dz * dz)
        r = radius[i] * section
        outer = r * 1.9 if kind == 1 else r
        ya, yb = int(centre_y[i] - outer - 2) - y0, int(centre_y[i] + outer + 3) - y0
        xa, xb = int(centre_x[i] - outer - 2) - x0, int(centre_x[i] + outer + 3) - x0
        ya, xa, yb, xb = max(ya, 0), max(xa, 0), min(yb, h), min(xb, w)
        if ya >= yb or xa >= xb:
            continue
        yy = np.arange(ya, yb)[:, None] + y0 - centre_y[i]
        xx = np.arange(xa, xb)[None, :] + x0 - centre_x[i]
        ca, sa = math.cos(angle[i]), math.sin(angle[i])
        d = np.hypot(xx * ca + yy * sa, (yy * ca - xx * sa) / ratio[i])  # elliptical distance
        if kind == 0:
            # soft edge and brighter chromatin toward the rim
            value = bright[i] * np.clip(r + 0.5 - d, 0, 1) * (0.75 + 0.25 * np.clip(d / max(r, 1), 0, 1))
        else:
            ring = np.exp(-0.5 * ((d - outer) / 1.3) ** 2)
            value = bright[i] * (ring + 0.18 * (d < outer) * (d > r))
        view = canvas[ya:yb, xa:xb]
        np.maximum(view, value, out=view)
    return canvas


def _filaments(z: int, size_z: int, y0: int, x0: int, h: int, w: int, seed: int) -> np.ndarray:
    """Curved filaments deposited as points along arcs, sharp, on region y0.., x0.."""
    canvas = np.zeros((h, w), np.float64)
    gy = np.arange((y0 - FILAMENT_LENGTH) // FILAMENT_CELL, (y0 + h + FILAMENT_LENGTH) // FILAMENT_CELL + 1)
    gx = np.arange((x0 - FILAMENT_LENGTH) // FILAMENT_CELL, (x0 + w + FILAMENT_LENGTH) // FILAMENT_CELL + 1)
    cy, cx, k = (g.ravel() for g in np.meshgrid(gy, gx, np.arange(FILAMENTS_PER_CELL), indexing="ij"))
    u = [uniform(seed, 2, cy, cx, k, j) for j in range(7)]
    start_y = (cy + u[0]) * FILAMENT_CELL
    start_x = (cx + u[1]) * FILAMENT_CELL
    theta = 2 * np.pi * u[2]
    curvature = (u[3] - 0.5) * 0.012
    length = FILAMENT_LENGTH * (0.4 + 0.6 * u[4])
    centre_z = u[5] * (size_z - 1) if size_z > 1 else np.zeros_like(u[5])
    weight = (0.5 + 0.5 * u[6]) * np.exp(-0.5 * ((z - centre_z) / max(1.0, size_z / 6)) ** 2)
    s = np.arange(0.0, FILAMENT_LENGTH, 0.7)
    keep = (s[None, :] <= length[:, None]) & (weight[:, None] > 0.02)
    phase = theta[:, None] + curvature[:, None] * s[None, :]
    # position along a circular arc (straight line when curvature is ~0)
    safe = np.where(np.abs(curvature) < 1e-6, 1e-6, curvature)[:, None]
    py = start_y[:, None] + (np.cos(theta)[:, None] - np.cos(phase)) / safe - y0
    px = start_x[:, None] + (np.sin(phase) - np.sin(theta)[:, None]) / safe - x0
    iy, ix = np.rint(py).astype(np.int64), np.rint(px).astype(np.int64)
    inside = keep & (iy >= 0) & (iy < h) & (ix >= 0) & (ix < w)
    np.add.at(canvas, (iy[inside], ix[inside]), np.broadcast_to(weight[:, None], iy.shape)[inside] * 0.8)
    return np.minimum(canvas, 1.6)


def sample_tile(channel: int, z: int, y0: int, x0: int, h: int, w: int, *, size_z: int, seed: int = 0) -> np.ndarray:
    """Pixels ``[y0:y0+h, x0:x0+w]`` of plane ``z`` of ``channel`` as uint16 (deterministic)."""
    kind = channel % 3
    kind_seed = seed * 7919 + channel // 3
    blur = _blur_radius(z, size_z)
    margin = 2 * blur + 2
    args = (z, size_z, y0 - margin, x0 - margin, h + 2 * margin, w + 2 * margin, kind_seed)
    sharp = _filaments(*args) if kind == 2 else _nuclei(kind, *args)
    soft = _box_blur(_box_blur(sharp, blur), blur)[margin:-margin, margin:-margin]
    signal = GAIN[kind] * soft * (2.0 / (1.0 + blur))  # defocus spreads the same light thinner
    rng = np.random.default_rng([seed, channel, z, y0, x0])
    noisy = OFFSET + signal + np.sqrt(signal + 1.0) * rng.standard_normal((h, w)) + 3.0 * rng.standard_normal((h, w))
    return np.clip(np.rint(noisy), 0, 65535).astype(np.uint16)


def _tiles(width: int, height: int, z: int, channels: int, seed: int, tile: int, workers: int) -> Iterator[np.ndarray]:
    """Tiles in TIFF order (channel, z, tile row, tile column), computed ahead on a thread pool."""
    jobs = ((c, zi, y, x) for c in range(channels) for zi in range(z)
            for y in range(0, height, tile) for x in range(0, width, tile))

    def make(job: tuple[int, int, int, int]) -> np.ndarray:
        c, zi, y, x = job
        out = np.zeros((tile, tile), np.uint16)
        h, w = min(tile, height - y), min(tile, width - x)
        out[:h, :w] = sample_tile(c, zi, y, x, h, w, size_z=z, seed=seed)
        return out

    with ThreadPoolExecutor(workers) as pool:
        queue: deque[Future[np.ndarray]] = deque()
        for job in jobs:
            queue.append(pool.submit(make, job))
            if len(queue) > 2 * workers:
                yield queue.popleft().result()
        while queue:
            yield queue.popleft().result()


def write_sample(path: str | Path, *, width: int = 2048, height: int = 2048, z: int = 16, channels: int = 3,
                 seed: int = 0, tile: int = 512, compression: str | None = "zlib",
                 workers: int | None = None) -> Path:
    """Write a synthetic uint16 OME-TIFF (axes CZYX, tiled) with channel names, colours, pixel size."""
    if min(width, height, z, channels) < 1:
        raise ValueError("width, height, z and channels must be >= 1")
    path = Path(path)
    names = [CHANNEL_NAMES[c % 3] + (f" {c // 3 + 1}" if c >= 3 else "") for c in range(channels)]
    colors = [CHANNEL_COLORS[c % len(CHANNEL_COLORS)] for c in range(channels)]
    metadata = {
        "axes": "CZYX",
        "Channel": {"Name": names, "Color": [_ome_color(c) for c in colors]},
        "PhysicalSizeX": PIXEL_SIZE_XY, "PhysicalSizeXUnit": "µm",
        "PhysicalSizeY": PIXEL_SIZE_XY, "PhysicalSizeYUnit": "µm",
        "PhysicalSizeZ": PIXEL_SIZE_Z, "PhysicalSizeZUnit": "µm",
    }
    workers = workers or os.cpu_count() or 1
    tifffile.imwrite(
        path, _tiles(width, height, z, channels, seed, tile, workers), shape=(channels, z, height, width),
        dtype=np.uint16, tile=(tile, tile), photometric="minisblack", metadata=metadata, ome=True,
        bigtiff=channels * z * height * width * 2 > 3_000_000_000, compression=compression,
        # zlib level 1: 7x faster than the default 6 on these tiles for 6 % more bytes
        compressionargs={"level": 1} if compression == "zlib" else None,
        maxworkers=workers,
    )
    return path


def _ome_color(hex_rgb: str) -> int:
    """``RRGGBB`` -> OME's signed 32-bit RGBA integer (opaque)."""
    value = (int(hex_rgb, 16) << 8) | 0xFF
    return value - (1 << 32) if value >= 1 << 31 else value
