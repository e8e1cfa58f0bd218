"""Per-channel value counts streamed over every plane: min/max, histogram and percentile windows."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

HISTOGRAM_BINS = 1024
LOW_PERCENTILE = 0.1
HIGH_PERCENTILE = 99.9


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
    """Exact value counts per channel (one counter per possible value: 256 or 65536)."""

    def __init__(self, channels: int, dtype: np.dtype) -> None:
        self.size = 1 << (8 * dtype.itemsize)
        self.counts = np.zeros((channels, self.size), np.int64)
        self._lock = threading.Lock()

    def add(self, channel: int, values: np.ndarray) -> None:
        """Count the values of a block of one channel (thread-safe)."""
        # bincount converts its input to int64: go by slices to keep that copy small.
        rows = max(1, (1 << 20) // max(1, values.shape[-1]))
        counts = np.zeros(self.size, np.int64)
        for start in range(0, values.shape[0], rows):
            counts += np.bincount(values[start : start + rows].ravel(), minlength=self.size)
        with self._lock:
            self.counts[channel] += counts

    def summary(self, channel: int) -> ChannelSummary:
        """Min, max, histogram and 0.1 %..99.9 % window of one channel."""
        counts = self.counts[channel]
        nonzero = np.flatnonzero(counts)
        if nonzero.size == 0:
            return ChannelSummary(0, 0, [0], (0, 1))
        lo, hi = int(nonzero[0]), int(nonzero[-1])
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
