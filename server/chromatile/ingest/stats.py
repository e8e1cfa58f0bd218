"""Per-channel statistics streamed over every plane: exact min/max, histogram and percentile windows.

Min and max look at every pixel. The histogram and the percentile window count every pixel of planes
up to COUNT_ALL pixels and evenly spaced rows of larger planes (every 2nd, 4th, ... row, so that at
least COUNT_ALL pixels of each plane are counted): counting is the costly part (numpy's bincount
widens every value to int64), and 16 million values place the 0.1 % and 99.9 % points as well as
268 million do.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

HISTOGRAM_BINS = 1024
LOW_PERCENTILE = 0.1
HIGH_PERCENTILE = 99.9
COUNT_ALL = 1 << 24  # pixels per plane counted in full (4096 x 4096)


def row_step(height: int, width: int, tile: int) -> int:
    """Count every n-th row: the largest power of two n <= tile leaving >= COUNT_ALL pixels of a plane.

    Bands start at multiples of ``tile`` (a power of two), so ``band[::n]`` are the rows ``y % n == 0``.
    """
    step = 1
    while step < tile and height * width // (step * 2) >= COUNT_ALL:
        step *= 2
    return step


@dataclass
class ChannelSummary:
    """What `.zattrs` records about one channel."""

    min: int
    max: int
    counts: list[int]  # histogram over [min, max + 1)
    window: tuple[int, int]  # default contrast window (robust percentiles)

    def histogram(self) -> dict[str, object]:
        """The `chromatile.channels[i].histogram` block."""
        return {"range": [self.min, self.max + 1], "counts": self.counts}


class ChannelStats:
    """Value counts per channel (one counter per possible value: 256 or 65536) and exact min/max."""

    def __init__(self, channels: int, dtype: np.dtype, step: int = 1) -> None:
        self.size = 1 << (8 * dtype.itemsize)
        self.step = step
        self.counts = np.zeros((channels, self.size), np.int64)
        self.low = [self.size] * channels
        self.high = [-1] * channels
        self._lock = threading.Lock()

    def add(self, channel: int, values: np.ndarray) -> None:
        """Add a band of one channel whose first row is a multiple of ``step`` (thread-safe)."""
        low, high = int(values.min()), int(values.max())
        counted = values[:: self.step]
        # bincount converts its input to int64: go by slices to keep that copy small.
        rows = max(1, (1 << 20) // max(1, counted.shape[-1]))
        counts = np.zeros(self.size, np.int64)
        for start in range(0, counted.shape[0], rows):
            counts += np.bincount(counted[start : start + rows].ravel(), minlength=self.size)
        with self._lock:
            self.counts[channel] += counts
            self.low[channel] = min(self.low[channel], low)
            self.high[channel] = max(self.high[channel], high)

    def summary(self, channel: int) -> ChannelSummary:
        """Min, max, histogram and 0.1 %..99.9 % window of one channel."""
        counts = self.counts[channel]
        if self.high[channel] < 0:
            return ChannelSummary(0, 0, [0], (0, 1))
        lo, hi = self.low[channel], self.high[channel]
        span = hi + 1 - lo
        bins = min(HISTOGRAM_BINS, span)
        # value v falls in bin floor((v - lo) * bins / span): bins of width span / bins.
        index = (np.arange(span, dtype=np.int64) * bins) // span
        hist = np.bincount(index, weights=counts[lo : hi + 1], minlength=bins).astype(np.int64)
        cumulative = np.cumsum(counts[lo : hi + 1])
        total = int(cumulative[-1])
        start = lo + int(np.searchsorted(cumulative, total * LOW_PERCENTILE / 100, side="left"))
        end = lo + int(np.searchsorted(cumulative, total * HIGH_PERCENTILE / 100, side="left"))
        if end <= start:
            # The percentiles met (constant or nearly constant data), yet a window needs width >= 1 and
            # must not draw the data black: the full range when there is one; a constant v > 0 ends the
            # window at v, so it is drawn at full colour; an all-zero channel stays black.
            start, end = (lo, hi) if lo < hi else (lo - 1, lo) if lo > 0 else (0, 1)
        return ChannelSummary(lo, hi, [int(v) for v in hist], (start, end))
