"""Progress bar of an ingest: tiles done / total, rate and ETA on stderr (tqdm), or nothing."""

from __future__ import annotations

import sys
from typing import Any

from tqdm import tqdm


class Progress:
    """A thin tqdm wrapper that costs nothing when disabled."""

    def __init__(self, total: int, enabled: bool, label: str) -> None:
        self._bar: Any = tqdm(total=total, unit="tile", desc=label, file=sys.stderr, dynamic_ncols=True,
                              smoothing=0.1) if enabled else None

    def update(self, count: int) -> None:
        """Add ``count`` finished tiles."""
        if self._bar is not None:
            self._bar.update(count)

    def close(self) -> None:
        """Finish the bar."""
        if self._bar is not None:
            self._bar.close()
