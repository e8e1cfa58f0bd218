"""Write the Zarr v2 arrays of a store by hand: `.zarray` files and one compressed file per chunk."""

from __future__ import annotations

import functools
import json
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from numcodecs.abc import Codec

from chromatile import storemeta
from chromatile.ingest.pipeline import Pipeline


def write_json(path: Path, value: object) -> None:
    """JSON with a trailing newline (the store is written in a temp dir, so no rename needed)."""
    path.write_text(json.dumps(value, indent=2) + "\n", encoding="utf-8")



def encode_tile(band: np.ndarray, col: int, tile: int, codec: Any) -> bytes | None:
    """Column `col` of a band of rows as one encoded tile (edge tiles zero-padded to tile x tile), or
    None when it is all zero: such chunks are not written, readers use the fill value 0."""
    block = band[:, col * tile : (col + 1) * tile]
    if block.shape != (tile, tile):
        padded = np.zeros((tile, tile), block.dtype)
        padded[: block.shape[0], : block.shape[1]] = block
        block = padded
    data = np.ascontiguousarray(block)
    encoded: bytes = codec.encode(data) if codec is not None else data.tobytes()
    # an all-zero chunk compresses to almost nothing, so only tiny outputs need the full check
    if (codec is None or len(encoded) * 64 < data.nbytes) and not data.any():
        return None
    return encoded

class ChunkWriter:
    """Splits tile-high bands into ``(1, 1, 1, tile, tile)`` chunks, encodes and writes them."""

    def __init__(self, root: Path, shapes: list[tuple[int, int]], extent: tuple[int, int, int],
                 tile: int, dtype: np.dtype, codec: Codec | None) -> None:
        self.root = root
        self.shapes = shapes
        self.tile = tile
        self.dtype = dtype
        self.codec = codec
        self._made: set[Path] = set()  # folders known to exist (a set add is atomic under the GIL)
        # Chunk grid per level and a bitmap of the chunks left out (1 bit per chunk: 13 MB for 10^8
        # chunks), set in the calling thread as each chunk's result comes back: the `absent` record.
        self.grids = [[*extent, -(-h // tile), -(-w // tile)] for h, w in shapes]
        self._absent = [bytearray(-(-math.prod(g) // 8)) for g in self.grids]
        write_json(root / ".zgroup", {"zarr_format": 2})
        for level, (height, width) in enumerate(shapes):
            (root / str(level)).mkdir()
            write_json(root / str(level) / ".zarray", {
                "zarr_format": 2,
                "shape": [*extent, height, width],
                "chunks": [1, 1, 1, tile, tile],
                "dtype": dtype.newbyteorder("<").str if dtype.itemsize > 1 else dtype.str,
                "compressor": codec.get_config() if codec is not None else None,
                "fill_value": 0,
                "order": "C",
                "filters": None,
                "dimension_separator": "/",
            })

    def tiles_per_band(self, level: int) -> int:
        """Number of chunks across one tile row of a level."""
        return -(-self.shapes[level][1] // self.tile)

    def submit_band(self, pipeline: Pipeline, level: int, t: int, c: int, z: int, row: int, band: np.ndarray,
                    then: Callable[[int], None]) -> None:
        """Queue every chunk of one band; ``then(1 or 0)`` follows each (0: all zeros, not written)."""
        folder = self.root / str(level) / str(t) / str(c) / str(z) / str(row)
        band = band.astype(self.dtype.newbyteorder("<"), copy=False)
        _, nc, nz, ny, nx = self.grids[level]
        first = (((t * nc + c) * nz + z) * ny + row) * nx  # C-order number of the band's first chunk
        for col in range(self.tiles_per_band(level)):
            pipeline.submit(self._write_chunk, folder, band, col,
                            then=functools.partial(self._record, level, first + col, then))

    def _record(self, level: int, index: int, then: Callable[[int], None], written: int) -> None:
        if not written:
            self._absent[level][index >> 3] |= 1 << (index & 7)
        then(written)

    def absent_record(self) -> list[dict[str, Any]]:
        """The `chromatile.absent` entry of every level."""
        return [storemeta.absent_level(grid, bits) for grid, bits in zip(self.grids, self._absent, strict=True)]

    def _write_chunk(self, folder: Path, band: np.ndarray, col: int) -> int:
        encoded = encode_tile(band, col, self.tile, self.codec)
        if encoded is None:
            return 0  # readers use the fill value 0
        if folder not in self._made:  # one mkdir per band row, not one per chunk
            os.makedirs(folder, exist_ok=True)
            self._made.add(folder)
        # os.open/os.write: two system calls fewer per chunk than open() (no fstat, no isatty)
        fd = os.open(folder / str(col), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
        try:
            view = memoryview(encoded)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
        return 1
