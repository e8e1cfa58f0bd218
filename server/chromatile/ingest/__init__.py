"""Ingest: TIFF sources -> OME-Zarr 0.4 pyramids (see docs/store-format.md and docs/ingest.md)."""

from __future__ import annotations

from chromatile.ingest.errors import IngestError
from chromatile.ingest.run import IngestResult, ingest

__all__ = ["IngestError", "IngestResult", "ingest"]
