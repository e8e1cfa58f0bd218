"""What ingest needs to know about a source image, whatever its file layout."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ReadRows = Callable[[int, int, "Executor | None"], np.ndarray]


@dataclass
class PlaneGroup:
    """One stored page: ``read(y0, y1, pool)`` gives ``(len(planes), rows, width)``.

    ``planes[i]`` is the ``(t, c, z)`` that sample ``i`` of the page becomes.
    """

    read: ReadRows
    planes: list[tuple[int, int, int]]
    preferred_rows: int


@dataclass
class PhysicalSize:
    """Size of one pixel along one axis in an OME-NGFF unit (e.g. ``micrometer``)."""

    value: float
    unit: str


@dataclass
class Source:
    """An opened source image: 5-D shape ``(t, c, z, y, x)``, dtype, metadata and its pages."""

    path: Path
    format: str  # ome-tiff | imagej | tiff | tiff-folder
    shape: tuple[int, int, int, int, int]
    dtype: np.dtype
    groups: Callable[[], Iterator[PlaneGroup]]
    channel_names: list[str | None] = field(default_factory=list)
    channel_colors: list[str | None] = field(default_factory=list)
    physical: dict[str, PhysicalSize] = field(default_factory=dict)  # keys "z", "y", "x"
    warnings: list[str] = field(default_factory=list)  # one line per problem worked around, naming the file
    close: Callable[[], None] = lambda: None

    @property
    def nbytes(self) -> int:
        """Uncompressed size of the pixel data."""
        return int(np.prod(self.shape)) * self.dtype.itemsize
