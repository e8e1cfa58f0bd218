"""Open one TIFF file (OME-TIFF incl. pyramidal, ImageJ hyperstack, plain 2-D/3-D, RGB) as a Source."""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import tifffile

from chromatile.ingest import tifflog, tiffmeta
from chromatile.ingest.bands import PageBands
from chromatile.ingest.errors import IngestError, one_line
from chromatile.ingest.source import PhysicalSize, PlaneGroup, Source

# Which of (t, c, z) each tifffile axis letter folds into; unknown letters count as channels.
RGB_NAMES: list[str | None] = ["Red", "Green", "Blue", "Alpha"]
RGB_COLORS: list[str | None] = ["FF0000", "00FF00", "0000FF", "FFFFFF"]
AXIS_TARGET = {"T": 0, "Z": 2, "Q": 2, "I": 2}


def _page_axes(path: Path, axes: str, kf: Any) -> str:
    """The trailing axes that one page holds (YX, YXS or SYX)."""
    tail = "YX"
    if axes.endswith("YXS"):
        tail = "YXS"
    if kf.planarconfig == 2 and kf.samplesperpixel > 1:
        tail = "S" + tail
    if not axes.endswith(tail):
        raise IngestError(f"{path}: unsupported TIFF axes {axes!r} (pages must hold Y and X)")
    return tail


def _plane_map(prefix: str, sizes: tuple[int, ...], samples: int) -> tuple[tuple[int, int, int], list[list[tuple[int, int, int]]]]:
    """The 5-D extent (t, c, z) and, for each page, the (t, c, z) of each of its samples."""
    extent = [1, 1, 1]
    for letter, size in zip(prefix, sizes, strict=True):
        extent[AXIS_TARGET.get(letter, 1)] *= size
    extent[1] *= samples
    planes = []
    for index in range(int(np.prod(sizes, dtype=np.int64)) if sizes else 1):
        pos = [0, 0, 0]
        position = np.unravel_index(index, sizes) if sizes else ()
        for letter, size, i in zip(prefix, sizes, position, strict=True):
            target = AXIS_TARGET.get(letter, 1)
            pos[target] = pos[target] * size + int(i)
        planes.append([(pos[0], pos[1] * samples + s, pos[2]) for s in range(samples)])
    return (extent[0], extent[1], extent[2]), planes


def open_tiff(path: Path) -> Source:
    """Open a TIFF file; the first series at full resolution is the image.

    What tifffile logs while reading the file's structure becomes the Source's warnings (in our words);
    when the file cannot be used, the error alone says why.
    """
    with tifflog.captured() as logged:
        try:
            tif = tifffile.TiffFile(path)
        except (tifffile.TiffFileError, struct.error, ValueError, OSError, IndexError, KeyError) as exc:
            raise IngestError(f"{path}: not a readable TIFF file ({one_line(exc)})") from exc
        try:
            source = _source(path, tif)
        except IngestError:
            tif.close()
            raise
        except Exception as exc:
            tif.close()
            raise IngestError(f"{path}: corrupt TIFF file ({one_line(exc)})") from exc
    source.warnings[:0] = tifflog.describe(path, logged)
    return source


def _source(path: Path, tif: tifffile.TiffFile) -> Source:
    if not tif.series:
        raise IngestError(f"{path}: TIFF file holds no image")
    series = tif.series[0]
    kf = series.keyframe
    if kf is None:
        raise IngestError(f"{path}: TIFF file holds no image")
    axes, shape = series.get_axes(False), series.get_shape(False)
    if any(size == 0 for size in shape) or kf.imagewidth == 0 or kf.imagelength == 0:
        raise IngestError(f"{path}: image has a zero-size dimension (shape {tuple(shape)})")
    tail = _page_axes(path, axes, kf)
    prefix, sizes = axes[: -len(tail)], tuple(int(s) for s in shape[: -len(tail)])
    pages = list(series.pages)
    expected = int(np.prod(sizes, dtype=np.int64)) if sizes else 1
    if len(pages) != expected or any(p is None for p in pages):
        raise IngestError(f"{path}: TIFF holds {len(pages)} pages where its metadata announces {expected}")
    samples = int(kf.samplesperpixel)
    (nt, nc, nz), planes = _plane_map(prefix, sizes, samples)
    dtype = np.dtype(kf.dtype).newbyteorder("=")

    names: list[str | None] = []
    colors: list[str | None] = []
    physical: dict[str, PhysicalSize] = {}
    warnings: list[str] = []
    fmt = "tiff"
    if tif.is_ome and tif.ome_metadata:
        fmt = "ome-tiff"
        names, colors, physical = tiffmeta.from_ome(tif.ome_metadata, 0)
    elif tif.is_imagej and tif.imagej_metadata is not None:
        fmt = "imagej"
        names, colors, physical = tiffmeta.from_imagej(tif.imagej_metadata, kf)
    else:
        physical, unknown = tiffmeta.from_tags(kf)
        if unknown:
            warnings.append(f"{path}: {unknown}")
    # RGB(A), also as YCbCr: how JPEG-compressed RGB is stored; tifffile's decoder returns it as RGB
    if samples in (3, 4) and kf.photometric in (2, 6) and not any(names):
        names = RGB_NAMES[:samples] * (nc // samples)
        colors = RGB_COLORS[:samples] * (nc // samples)

    fd = os.open(path, os.O_RDONLY)

    def groups() -> Iterator[PlaneGroup]:
        for page, page_planes in zip(pages, planes, strict=True):
            bands = PageBands(path, fd, page)
            if (bands.height, bands.width) != (kf.imagelength, kf.imagewidth):
                raise IngestError(f"{path}: pages of the image differ in size")
            yield PlaneGroup(bands.read, page_planes, bands.preferred_rows)

    def close() -> None:
        os.close(fd)
        tif.close()

    return Source(
        path=path,
        format=fmt,
        shape=(nt, nc, nz, int(kf.imagelength), int(kf.imagewidth)),
        dtype=dtype,
        groups=groups,
        channel_names=names[:nc] if len(names) >= nc else [],
        channel_colors=colors[:nc] if len(colors) >= nc else [],
        physical=physical,
        warnings=warnings,
        close=close,
    )
