"""Fixtures of the ingest tests: small arrays with known values, written to TIFF by each test."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture
def ramp() -> np.ndarray:
    """(t, c, z, y, x) uint16 with values through 0 and 65535 and odd sizes."""
    rng = np.random.default_rng(1)
    a = rng.integers(0, 65536, size=(1, 2, 3, 150, 203), dtype=np.uint16)
    a[0, 0, 0, 0, :2] = [0, 65535]
    return a
