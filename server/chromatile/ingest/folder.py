"""A folder of per-slice TIFFs (``slice_000.tif``, ... in natural sort order) as one Z stack."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from chromatile.ingest.errors import IngestError
from chromatile.ingest.source import PlaneGroup, Source
from chromatile.ingest.tiffsource import open_tiff

TIFF_SUFFIXES = (".tif", ".tiff")


def natural_key(name: str) -> list[object]:
    """Sort key where digit runs compare as numbers: slice_2 < slice_10."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


def slice_files(folder: Path) -> list[Path]:
    """The TIFF files of a folder in natural order, hidden files ignored."""
    files = [
        p for p in folder.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in TIFF_SUFFIXES
    ]
    return sorted(files, key=lambda p: natural_key(p.name))


def open_folder(folder: Path) -> Source:
    """Every file must hold one plane (or one plane per channel) of the same size and dtype."""
    files = slice_files(folder)
    if not files:
        raise IngestError(f"{folder}: folder holds no .tif/.tiff files")
    first = open_tiff(files[0])
    first.close()
    warnings = [(files[0], w) for w in first.warnings]
    nt, nc, nz, ny, nx = first.shape
    if nt != 1 or nz != 1:
        raise IngestError(f"{files[0]}: a slice file must hold one Z plane, found shape {first.shape}")
    for path in files[1:]:
        src = open_tiff(path)
        src.close()
        warnings += [(path, w) for w in src.warnings]
        if src.shape != first.shape or src.dtype != first.dtype:
            raise IngestError(
                f"{path}: slice is {src.shape[3]}x{src.shape[4]} {src.dtype} with {src.shape[1]} channel(s), "
                f"but {files[0].name} is {ny}x{nx} {first.dtype} with {nc} channel(s)"
            )

    def groups() -> Iterator[PlaneGroup]:
        for z, path in enumerate(files):
            src = open_tiff(path)
            try:
                for group in src.groups():
                    yield PlaneGroup(group.read, [(t, c, z) for t, c, _ in group.planes], group.preferred_rows)
            finally:
                src.close()

    return Source(
        path=folder,
        format="tiff-folder",
        shape=(1, nc, len(files), ny, nx),
        dtype=first.dtype,
        groups=groups,
        channel_names=first.channel_names,
        channel_colors=first.channel_colors,
        physical=first.physical,
        warnings=_one_line_per_problem(warnings),
    )


def _one_line_per_problem(warnings: list[tuple[Path, str]]) -> list[str]:
    """The same problem in many slices is one line naming the first slice and the count of the others."""
    files: dict[str, list[Path]] = {}
    for path, line in warnings:
        files.setdefault(line.removeprefix(f"{path}: "), []).append(path)
    return [f"{paths[0]}" + (f" (and {len(paths) - 1} more slices)" if len(paths) > 1 else "") + f": {problem}"
            for problem, paths in files.items()]
