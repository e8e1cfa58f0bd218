"""Open any supported source path: a TIFF file, a folder of per-slice TIFFs, or an OME-Zarr folder."""

from __future__ import annotations

from pathlib import Path

from chromatile.ingest.errors import IngestError
from chromatile.ingest.folder import open_folder
from chromatile.ingest.source import Source
from chromatile.ingest.tiffsource import open_tiff
from chromatile.ingest.zarrsource import is_ome_zarr, open_ome_zarr


def open_source(path: str | Path) -> Source:
    """Open ``path`` for reading; raises IngestError naming the path when it cannot be used."""
    path = Path(path)
    if path.is_dir():
        return open_ome_zarr(path) if is_ome_zarr(path) else open_folder(path)
    if not path.exists():
        raise IngestError(f"{path}: no such file or folder")
    if not path.is_file():
        raise IngestError(f"{path}: not a regular file")
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if magic[:2] not in (b"II", b"MM") or magic[2:4] not in (b"*\x00", b"\x00*", b"+\x00", b"\x00+"):
        raise IngestError(f"{path}: not a TIFF file")
    return open_tiff(path)
