"""Read a horizontal band of rows of one TIFF page without decoding the rest of the page.

Compressed pages are read segment by segment (tile or strip) through tifffile's own decoder;
uncompressed strips are read row-exactly with ``os.pread``, so even a page stored as one huge
uncompressed strip is never loaded whole. Reads use ``pread`` on a private file descriptor, which
needs no lock and lets several threads decode one band at once.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

import numpy as np

from chromatile.ingest.errors import IngestError, one_line


class PageBands:
    """Band reader for one page (a ``TiffPage`` or ``TiffFrame``) of an open TIFF file."""

    def __init__(self, path: Path, fd: int, page: Any) -> None:
        self.path = path
        self.fd = fd
        self.page = page
        kf = page.keyframe if page.keyframe is not None else page
        self.kf = kf
        if kf.imagedepth > 1:
            raise IngestError(f"{path}: volumetric (tile depth) TIFF pages are not supported")
        self.height = int(kf.imagelength)
        self.width = int(kf.imagewidth)
        self.samples = int(kf.samplesperpixel)
        self.separate = kf.planarconfig == 2 and self.samples > 1
        self.dtype = np.dtype(kf.dtype).newbyteorder("=")
        self.raw_dtype = np.dtype(kf.parent.byteorder + kf.dtype.char)
        self.tiled = bool(kf.is_tiled)
        self.segment_rows = int(kf.tilelength if self.tiled else min(kf.rowsperstrip, self.height))
        self.direct = (
            not self.tiled
            and kf.compression == 1
            and kf.predictor == 1
            and kf.fillorder == 1
            and kf.bitspersample in (8, 16, 32, 64)
            and kf.sampleformat != 5
        )

    @property
    def preferred_rows(self) -> int:
        """Rows per read that decode each segment once (uncompressed strips: any height works)."""
        return 1 if self.direct else self.segment_rows

    def read(self, y0: int, y1: int, pool: Executor | None = None) -> np.ndarray:
        """Rows ``y0:y1`` of every sample, shape ``(samples, y1 - y0, width)``, native byte order."""
        out = np.zeros((self.samples, y1 - y0, self.width), self.dtype)
        try:
            if self.direct:
                self._read_direct(y0, y1, out)
            else:
                self._read_segments(y0, y1, out, pool)
        except IngestError:
            raise
        except Exception as exc:
            raise IngestError(f"{self.path}: corrupt or truncated TIFF data ({one_line(exc)})") from exc
        return out

    def _pread(self, offset: int, size: int) -> bytes:
        data = os.pread(self.fd, size, offset)
        if len(data) != size:
            raise IngestError(f"{self.path}: truncated TIFF (image data ends before byte {offset + size})")
        return data

    def _read_direct(self, y0: int, y1: int, out: np.ndarray) -> None:
        contig = 1 if self.separate else self.samples
        rowbytes = self.width * contig * self.raw_dtype.itemsize
        rps = self.segment_rows
        nstrips = math.ceil(self.height / rps)
        offsets, counts = self.page.dataoffsets, self.page.databytecounts
        for sep in range(self.samples if self.separate else 1):
            for strip in range(y0 // rps, (y1 - 1) // rps + 1):
                index = sep * nstrips + strip
                a = max(y0, strip * rps) - strip * rps
                b = min(y1, (strip + 1) * rps) - strip * rps
                if counts[index] < b * rowbytes:
                    raise IngestError(f"{self.path}: truncated TIFF (strip {index} is too short)")
                dst = slice(strip * rps + a - y0, strip * rps + b - y0)
                if contig == 1 and self.raw_dtype == self.dtype:
                    # native byte order, one sample per pixel: read straight into the output rows
                    target = out[sep, dst]
                    got = os.preadv(self.fd, [memoryview(target).cast("B")],  # type: ignore[arg-type]
                                    offsets[index] + a * rowbytes)
                    if got != target.nbytes:
                        raise IngestError(f"{self.path}: truncated TIFF (strip {index} ends early)")
                    continue
                data = self._pread(offsets[index] + a * rowbytes, (b - a) * rowbytes)
                rows = np.frombuffer(data, self.raw_dtype).reshape(b - a, self.width, contig)
                if self.separate:
                    out[sep, dst] = rows[..., 0]
                else:
                    out[:, dst] = rows.transpose(2, 0, 1)

    def _segment_indices(self, y0: int, y1: int) -> list[int]:
        kf = self.kf
        seps = self.samples if self.separate else 1
        r0, r1 = y0 // self.segment_rows, (y1 - 1) // self.segment_rows + 1
        if self.tiled:
            across = math.ceil(self.width / kf.tilewidth)
            down = math.ceil(self.height / kf.tilelength)
            return [s * down * across + r * across + c for s in range(seps) for r in range(r0, r1) for c in range(across)]
        down = math.ceil(self.height / self.segment_rows)
        return [s * down + r for s in range(seps) for r in range(r0, r1)]

    def _read_segments(self, y0: int, y1: int, out: np.ndarray, pool: Executor | None) -> None:
        kf, page = self.kf, self.page
        decode = kf.decode
        jpeg = kf.compression in (6, 7, 34892, 33007)
        kwargs = {"jpegtables": page.jpegtables, "jpegheader": kf.jpegheader} if jpeg else {}
        offsets, counts = page.dataoffsets, page.databytecounts

        def one(index: int) -> None:
            if index >= len(offsets):
                raise IngestError(f"{self.path}: truncated TIFF (segment {index} missing)")
            data = self._pread(offsets[index], counts[index]) if counts[index] else None
            seg, (sep, _, sy, sx, _), _ = decode(data, index, **kwargs)
            if seg is None:
                return  # empty segment: stays zero
            seg = seg[0]  # (rows, cols, contig samples)
            a, b = max(y0, sy), min(y1, sy + seg.shape[0])
            cols = min(seg.shape[1], self.width - sx)
            if b <= a:
                return
            part = seg[a - sy : b - sy, :cols]
            if self.separate:
                out[sep, a - y0 : b - y0, sx : sx + cols] = part[..., 0]
            else:
                out[:, a - y0 : b - y0, sx : sx + cols] = part.transpose(2, 0, 1)

        indices = self._segment_indices(y0, y1)
        if pool is None or len(indices) < 2:
            for index in indices:
                one(index)
        else:
            for _ in pool.map(one, indices):
                pass
