"""Progress bar of an ingest: tiles done / total, rate and ETA on stderr (tqdm), or nothing."""

from __future__ import annotations

import os
import sys
from typing import Any

from tqdm import tqdm


class Progress:
    """A thin tqdm wrapper that costs nothing when disabled."""

    def __init__(self, total: int, enabled: bool, label: str) -> None:
        self._bar: Any = None
        if enabled:
            # a terminal that reports 0 columns (some ptys, serial consoles) would get an empty bar
            sized = _columns() > 0
            self._bar = tqdm(total=total, unit="tile", desc=label, file=sys.stderr, dynamic_ncols=sized,
                             ncols=None if sized else 80, nrows=None if sized else 24, smoothing=0.1)

    def update(self, count: int) -> None:
        """Add ``count`` finished tiles."""
        if self._bar is not None:
            self._bar.update(count)

    def close(self) -> None:
        """Finish the bar."""
        if self._bar is not None:
            self._bar.close()


def _columns() -> int:
    try:
        return os.get_terminal_size(sys.stderr.fileno()).columns
    except (OSError, ValueError, AttributeError):
        return 0
