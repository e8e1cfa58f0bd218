"""Pyramid geometry and the streaming 2x2-mean cascade that builds every level in one pass."""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import Executor

import numpy as np


def level_shapes(height: int, width: int, tile: int) -> list[tuple[int, int]]:
    """(y, x) of each level: halve (ceil) until the whole plane fits in one tile."""
    shapes = [(height, width)]
    while shapes[-1][0] > tile or shapes[-1][1] > tile:
        h, w = shapes[-1]
        shapes.append((math.ceil(h / 2), math.ceil(w / 2)))
    return shapes


def downsample2(a: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """2x2 mean rounded half up, same dtype; an odd last row/column is averaged with itself.

    ``out`` (optional, shape ``ceil(h/2) x ceil(w/2)``, same dtype) receives the result.
    """
    h, w = a.shape
    if h % 2 or w % 2:
        a = np.pad(a, ((0, h % 2), (0, w % 2)), mode="edge")
    # The sum of four values plus 2 must not overflow. uint16 holds it for 8-bit data and for 16-bit
    # data below 16384 (12- and 14-bit cameras): no widening casts, half the memory traffic.
    narrow = a.dtype.itemsize == 1 or (a.dtype == np.uint16 and a.size and int(a.max()) < 16384)
    acc = np.dtype(np.uint16 if narrow else np.uint32)
    s = np.add(a[0::2, 0::2], a[1::2, 0::2], dtype=acc, out=out if out is not None and out.dtype == acc else None)
    s += a[0::2, 1::2]
    s += a[1::2, 1::2]
    s += 2
    s >>= 2
    if out is None:
        result: np.ndarray = s.astype(a.dtype, copy=False)
        return result
    if s is not out:
        np.copyto(out, s, casting="unsafe")  # values are <= the dtype's max: the cast is exact
    return out


def downsample2_parallel(a: np.ndarray, pool: Executor | None, parts: int) -> np.ndarray:
    """:func:`downsample2` over column slabs (even widths) on a thread pool, each writing its columns of
    one output array (numpy drops the GIL)."""
    h, w = a.shape
    if pool is None or parts < 2 or w < 256:
        return downsample2(a)
    step = max(2, math.ceil(w / parts / 2) * 2)
    edges = [*range(0, w, step), w]
    out = np.empty((-(-h // 2), -(-w // 2)), a.dtype)

    def part(i: int) -> None:
        x0, x1 = edges[i], edges[i + 1]
        downsample2(a[:, x0:x1], out[:, x0 // 2 : x0 // 2 + -(-(x1 - x0) // 2)])

    for _ in pool.map(part, range(len(edges) - 1)):
        pass
    return out


# emit(level, tile_row, band): band is tile rows (fewer for the last band) of the full level width.
Emit = Callable[[int, int, np.ndarray], None]


class Cascade:
    """Receives rows of level 0 of one plane in order; emits tile-high bands of every level.

    Each level keeps at most one tile-high band of rows, so memory is a few bands whatever the
    image height.
    """

    def __init__(self, shapes: list[tuple[int, int]], tile: int, emit: Emit,
                 pool: Executor | None = None, parts: int = 1) -> None:
        self.shapes = shapes
        self.tile = tile
        self.emit = emit
        self.pool = pool
        self.parts = parts
        self.pending: list[list[np.ndarray]] = [[] for _ in shapes]
        self.rows = [0] * len(shapes)
        self.next_row = [0] * len(shapes)

    def push(self, rows: np.ndarray, level: int = 0) -> None:
        """Append rows (full width) of ``level``; emits every complete band."""
        self.pending[level].append(rows)
        self.rows[level] += rows.shape[0]
        while self.rows[level] >= self.tile:
            self._emit(level, self._take(level, self.tile))

    def finish(self) -> None:
        """Flush the last partial bands of every level (call after the last row of level 0)."""
        for level in range(len(self.shapes)):
            if self.rows[level]:
                self._emit(level, self._take(level, self.rows[level]))
        for level, (height, _) in enumerate(self.shapes):
            if self.next_row[level] * self.tile < height:
                raise AssertionError(f"level {level} got {self.next_row[level]} bands for {height} rows")

    def _take(self, level: int, count: int) -> np.ndarray:
        parts = self.pending[level]
        band = parts[0] if len(parts) == 1 else np.concatenate(parts, axis=0)
        rest = band[count:]
        self.pending[level] = [rest] if rest.shape[0] else []
        self.rows[level] -= count
        return band[:count]

    def _emit(self, level: int, band: np.ndarray) -> None:
        self.emit(level, self.next_row[level], band)
        self.next_row[level] += 1
        if level + 1 < len(self.shapes):
            self.push(downsample2_parallel(band, self.pool, self.parts), level + 1)
