"""Write the Zarr v3 arrays of an OME-Zarr 0.5 store by hand: `zarr.json` files and sharded chunks.

Each level is one array of shape ``(t, c, z, y, x)`` with inner chunks ``(1, 1, 1, tile, tile)`` (the same
tiles, bytes and codec as a 0.4 store) grouped into shards ``(1, 1, 1, S, S)`` (the `sharding_indexed`
codec, index at the end, protected by crc32c as zarr-python writes it). Inner chunks are appended to their
shard file as soon as they are encoded and the index is written when the last one arrived, so memory
holds one index per open shard (16 bytes a chunk), never a shard's pixels. zarr-python's own writer
would need each shard's pixels whole in memory, or rewrite a shard once per band (docs/store-format.md).
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import google_crc32c
import numcodecs
import numpy as np
from numcodecs.abc import Codec

from chromatile.ingest.errors import IngestError
from chromatile.ingest.pipeline import Pipeline
from chromatile.ingest.writer import encode_tile, write_json

DEFAULT_SHARD = 4096  # pixels along y and x; chosen by measurement, see docs/store-format.md
EMPTY = (1 << 64) - 1  # an index entry of all ones: the inner chunk is absent (fill value)
_SHUFFLE = {numcodecs.Blosc.NOSHUFFLE: "noshuffle", numcodecs.Blosc.SHUFFLE: "shuffle",
            numcodecs.Blosc.BITSHUFFLE: "bitshuffle"}


def check_shard(shard: int, tile: int) -> int:
    """A shard side is a multiple of the tile (whole inner chunks)."""
    if shard < tile or shard % tile:
        raise IngestError(f"--shard {shard}: the shard side must be a multiple of the tile size ({tile})")
    return shard


def v3_codecs(codec: Codec | None, dtype: np.dtype) -> list[dict[str, Any]]:
    """The Zarr v3 codec chain that decodes what ``codec.encode`` wrote (numcodecs and v3 bytes agree)."""
    chain: list[dict[str, Any]] = [{"name": "bytes", "configuration": {"endian": "little"}}]
    if codec is None:
        return chain
    config = codec.get_config()
    name = config["id"]
    if name == "blosc":
        chain.append({"name": "blosc", "configuration": {
            "typesize": dtype.itemsize, "cname": config["cname"], "clevel": config["clevel"],
            "shuffle": _SHUFFLE[config["shuffle"]], "blocksize": config["blocksize"]}})
    elif name == "zstd":
        chain.append({"name": "zstd", "configuration": {"level": config["level"], "checksum": False}})
    elif name == "gzip":
        chain.append({"name": "gzip", "configuration": {"level": config["level"]}})
    else:
        raise IngestError(f"--compression {name}: OME-Zarr 0.5 (Zarr v3) has no {name} codec; "
                          "use blosc-zstd, blosc-lz4, zstd, gzip or none")
    return chain


class _Shard:
    """One shard file being filled: the next free offset, the index, inner chunks still to come."""

    def __init__(self, path: Path, entries: int, expected: int) -> None:
        self.path = path
        self.fd: int | None = None
        self.end = 0
        self.index = np.full((entries, 2), EMPTY, dtype="<u8")
        self.remaining = expected


class ShardWriter:
    """Splits tile-high bands into inner chunks, encodes them and places them in shard files."""

    def __init__(self, root: Path, shapes: list[tuple[int, int]], extent: tuple[int, int, int],
                 tile: int, dtype: np.dtype, codec: Codec | None, shard: int) -> None:
        self.root = root
        self.shapes = shapes
        self.tile = tile
        self.dtype = dtype.newbyteorder("<")
        self.codec = codec
        # per level: shard (y, x) in pixels, never larger than the level (rounded up to whole tiles)
        self.shard_shapes = [(min(shard, math.ceil(h / tile) * tile), min(shard, math.ceil(w / tile) * tile))
                             for h, w in shapes]
        self.open: dict[tuple[int, int, int, int, int, int], _Shard] = {}
        self.lock = threading.Lock()
        chain = v3_codecs(codec, self.dtype)
        for level, ((height, width), (sy, sx)) in enumerate(zip(shapes, self.shard_shapes, strict=True)):
            (root / str(level)).mkdir()
            write_json(root / str(level) / "zarr.json", {
                "zarr_format": 3,
                "node_type": "array",
                "shape": [*extent, height, width],
                "data_type": self.dtype.name,
                "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [1, 1, 1, sy, sx]}},
                "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
                "fill_value": 0,
                "codecs": [{"name": "sharding_indexed", "configuration": {
                    "chunk_shape": [1, 1, 1, tile, tile],
                    "codecs": chain,
                    "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"}],
                    "index_location": "end",
                }}],
                "attributes": {},
                "dimension_names": ["t", "c", "z", "y", "x"],
            })

    def tiles_per_band(self, level: int) -> int:
        """Number of chunks across one tile row of a level."""
        return -(-self.shapes[level][1] // self.tile)

    def submit_band(self, pipeline: Pipeline, level: int, t: int, c: int, z: int, row: int, band: np.ndarray,
                    then: Callable[[int], None]) -> None:
        """Queue every inner chunk of one band; ``then(1 or 0)`` follows each (0: all zeros, not stored)."""
        band = band.astype(self.dtype, copy=False)
        for col in range(self.tiles_per_band(level)):
            pipeline.submit(self._write_chunk, level, t, c, z, row, band, col, then=then)

    def finish(self) -> None:
        """Check that every shard got all its inner chunks (and so was closed with its index)."""
        left = len(self.open)
        self.close()
        if left:
            raise AssertionError(f"{left} shard(s) did not receive all their chunks")

    def close(self) -> None:
        """Close the files of unfinished shards (after a failure; the partial store is removed)."""
        for shard in self.open.values():
            if shard.fd is not None:
                os.close(shard.fd)
        self.open.clear()

    def _write_chunk(self, level: int, t: int, c: int, z: int, row: int, band: np.ndarray, col: int) -> int:
        tile = self.tile
        encoded = encode_tile(band, col, tile, self.codec)  # None: all zero, readers use the fill value
        sy, sx = (n // tile for n in self.shard_shapes[level])
        key = (level, t, c, z, row // sy, col // sx)
        entry = (row % sy) * sx + col % sx
        with self.lock:
            shard = self.open.get(key)
            if shard is None:
                shard = self._new_shard(key, sy, sx)
            if encoded is not None:
                if shard.fd is None:
                    shard.path.parent.mkdir(parents=True, exist_ok=True)
                    shard.fd = os.open(shard.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
                offset = shard.end
                shard.end += len(encoded)
        if encoded is not None:
            os.pwrite(shard.fd, encoded, offset)  # type: ignore[arg-type]
        with self.lock:
            if encoded is not None:
                shard.index[entry] = (offset, len(encoded))
            shard.remaining -= 1
            done = shard.remaining == 0
            if done:
                del self.open[key]
        if done:
            self._close(shard)
        return 0 if encoded is None else 1

    def _new_shard(self, key: tuple[int, int, int, int, int, int], sy: int, sx: int) -> _Shard:
        level, t, c, z, srow, scol = key
        height, width = self.shapes[level]
        rows = min((srow + 1) * sy, math.ceil(height / self.tile)) - srow * sy
        cols = min((scol + 1) * sx, math.ceil(width / self.tile)) - scol * sx
        path = self.root / str(level) / "c" / str(t) / str(c) / str(z) / str(srow) / str(scol)
        shard = _Shard(path, sy * sx, rows * cols)
        self.open[key] = shard
        return shard

    @staticmethod
    def _close(shard: _Shard) -> None:
        """Append the index (little-endian offset/size pairs, then their crc32c) and close the file."""
        if shard.fd is None:
            return  # every inner chunk was empty: no shard file at all
        index = shard.index.tobytes()
        tail = index + google_crc32c.value(index).to_bytes(4, "little")
        try:
            os.pwrite(shard.fd, tail, shard.end)
        finally:
            os.close(shard.fd)
