"""Chunk compressors: names accepted by ``--compression`` and the numcodecs codec of each."""

from __future__ import annotations

from collections.abc import Callable

import numcodecs
from numcodecs.abc import Codec

from chromatile.ingest.errors import IngestError

# Chosen by measurement, see docs/ingest.md.
DEFAULT_COMPRESSION = "blosc-zstd"
DEFAULT_TILE = 512

_FACTORIES: dict[str, Callable[[], Codec | None]] = {
    # 256 KiB blocks: better ratio and faster encode and decode than 128 KiB or blosc's automatic choice
    "blosc-zstd": lambda: numcodecs.Blosc(cname="zstd", clevel=1, shuffle=numcodecs.Blosc.SHUFFLE,
                                          blocksize=1 << 18),
    "blosc-lz4": lambda: numcodecs.Blosc(cname="lz4", clevel=5, shuffle=numcodecs.Blosc.SHUFFLE),
    "zstd": lambda: numcodecs.Zstd(level=3),
    "zlib": lambda: numcodecs.Zlib(level=6),
    "gzip": lambda: numcodecs.GZip(level=6),
    "none": lambda: None,
}
COMPRESSIONS = tuple(_FACTORIES)


def make_codec(name: str) -> Codec | None:
    """The numcodecs codec of a compression name (None for uncompressed chunks)."""
    if name not in _FACTORIES:
        raise IngestError(f"unknown compression {name!r}; choose one of {', '.join(COMPRESSIONS)}")
    return _FACTORIES[name]()
