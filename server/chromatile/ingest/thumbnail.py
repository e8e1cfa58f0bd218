"""The store's `thumbnail.png`: longest side 256 px, channels added in their colours, windows applied."""

from __future__ import annotations

import imagecodecs
import numpy as np

THUMBNAIL_SIZE = 256


def _axis_resample(n: int, out: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Block edges for averaging (shrink) or nearest indices (enlarge) along one axis."""
    if out >= n:
        return np.minimum(((np.arange(out) + 0.5) * n / out).astype(np.int64), n - 1), None
    edges = (np.arange(out) * n) // out
    return edges, np.diff(np.append(edges, n))


def resize(plane: np.ndarray, height: int, width: int) -> np.ndarray:
    """Box-average (or nearest when enlarging) a 2-D plane to ``height x width`` as float64."""
    a = plane.astype(np.float64)
    for axis, out in ((0, height), (1, width)):
        idx, sizes = _axis_resample(a.shape[axis], out)
        if sizes is None:
            a = np.take(a, idx, axis=axis)
        else:
            a = np.add.reduceat(a, idx, axis=axis)
            a /= sizes[:, None] if axis == 0 else sizes[None, :]
    return a


def thumbnail_size(height: int, width: int) -> tuple[int, int]:
    """Output size with the longest side THUMBNAIL_SIZE, aspect kept."""
    scale = THUMBNAIL_SIZE / max(height, width)
    return max(1, round(height * scale)), max(1, round(width * scale))


def render(planes: list[np.ndarray], windows: list[tuple[int, int]], colors: list[str],
           full_size: tuple[int, int]) -> bytes:
    """PNG bytes of the additive composite of ``planes`` (one 2-D array per channel)."""
    height, width = thumbnail_size(*full_size)
    rgb = np.zeros((height, width, 3), np.float64)
    for plane, (lo, hi), color in zip(planes, windows, colors, strict=True):
        resized = resize(plane, height, width)
        # a zero-width window (only possible when given by hand) is a step at its edge, not all black
        values = np.clip((resized - lo) / (hi - lo), 0.0, 1.0) if hi > lo else (resized >= hi).astype(np.float64)
        weights = np.array([int(color[i : i + 2], 16) / 255.0 for i in (0, 2, 4)])
        rgb += values[..., None] * weights
    image = np.clip(np.floor(rgb * 255.0 + 0.5), 0, 255).astype(np.uint8)
    return bytes(imagecodecs.png_encode(image))
