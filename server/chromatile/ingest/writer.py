"""Write the Zarr v2 arrays of a store by hand: `.zarray` files and one compressed file per chunk."""

from __future__ import annotations

import json
import os
from concurrent.futures import Executor
from pathlib import Path

import numpy as np
from numcodecs.abc import Codec


def write_json(path: Path, value: object) -> None:
    """JSON with a trailing newline (the store is written in a temp dir, so no rename needed)."""
    path.write_text(json.dumps(value, indent=2) + "\n", encoding="utf-8")


class ChunkWriter:
    """Splits tile-high bands into ``(1, 1, 1, tile, tile)`` chunks, encodes and writes them."""

    def __init__(self, root: Path, shapes: list[tuple[int, int]], extent: tuple[int, int, int],
                 tile: int, dtype: np.dtype, codec: Codec | None) -> None:
        self.root = root
        self.shapes = shapes
        self.tile = tile
        self.dtype = dtype
        self.codec = codec
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

    def write_band(self, level: int, t: int, c: int, z: int, row: int, band: np.ndarray,
                   pool: Executor | None) -> int:
        """Write every chunk of one band; returns how many were written (all-zero chunks are not)."""
        folder = self.root / str(level) / str(t) / str(c) / str(z) / str(row)
        tile = self.tile
        band = band.astype(self.dtype.newbyteorder("<"), copy=False)

        def one(col: int) -> bool:
            block = band[:, col * tile : (col + 1) * tile]
            if not block.any():
                return False  # readers use the fill value 0
            if block.shape != (tile, tile):
                padded = np.zeros((tile, tile), block.dtype)
                padded[: block.shape[0], : block.shape[1]] = block
                block = padded
            data = np.ascontiguousarray(block)
            encoded = self.codec.encode(data) if self.codec is not None else data.tobytes()
            os.makedirs(folder, exist_ok=True)
            with open(folder / str(col), "wb") as fh:
                fh.write(encoded)
            return True

        cols = range(self.tiles_per_band(level))
        written = map(one, cols) if pool is None else pool.map(one, cols)
        return sum(written)
