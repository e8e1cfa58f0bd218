"""The dtype rule: uint8/uint16 are stored as they are; anything else only with an explicit rescale."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from chromatile.ingest.errors import IngestError

KEPT = (np.dtype(np.uint8), np.dtype(np.uint16))

Convert = Callable[[np.ndarray], np.ndarray]


def parse_rescale(text: str) -> tuple[float, float]:
    """``"LO,HI"`` -> ``(lo, hi)`` with ``lo < hi``."""
    try:
        lo, hi = (float(v) for v in text.split(","))
    except ValueError as exc:
        raise IngestError(f"--rescale {text!r}: expected two numbers LO,HI (e.g. --rescale 0,4095)") from exc
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise IngestError(f"--rescale {text!r}: need finite LO < HI")
    return lo, hi


def converter(path: Path, dtype: np.dtype, rescale: tuple[float, float] | None) -> tuple[np.dtype, Convert | None]:
    """The stored dtype and the function turning source rows into it (None: store as is)."""
    if rescale is None:
        if dtype in KEPT:
            return dtype, None
        raise IngestError(
            f"{path}: pixel type {dtype} is not supported (stores hold uint8 or uint16); "
            f"pass --rescale LO,HI to map the range LO..HI linearly onto uint16 0..65535"
        )
    if dtype.kind not in "uifb":
        raise IngestError(f"{path}: pixel type {dtype} cannot be rescaled")
    lo, hi = rescale
    scale = 65535.0 / (hi - lo)

    def convert(rows: np.ndarray) -> np.ndarray:
        # float64 keeps integer sources up to 2**53 exact before rounding.
        values = (rows.astype(np.float64) - lo) * scale
        np.nan_to_num(values, copy=False, nan=0.0, posinf=65535.0, neginf=0.0)
        return np.clip(np.floor(values + 0.5), 0, 65535).astype(np.uint16)

    return np.dtype(np.uint16), convert
