"""The on-disk layout of a DATA_DIR and of its stores, one module per job:

- :mod:`~chromatile.store.paths`: id and chunk-key patterns (defined once) and path safety;
- :mod:`~chromatile.store.datadir`: discovery, lookup (aliases), the hot-path open of a chunk;
- :mod:`~chromatile.store.markers`: withdrawn/private state;
- :mod:`~chromatile.store.secret`: the signing secret;
- :mod:`~chromatile.store.metadata`: everything format-specific (OME-Zarr 0.4 `.zattrs`, 0.5
  `zarr.json`): the only module that reads or writes store metadata.
"""

from chromatile.store.datadir import STATE_DIR, DataDir, StoreRef, thumbnail_file
from chromatile.store.markers import ImageState
from chromatile.store.paths import (
    CHUNK_PATTERN,
    CHUNK_RE,
    ID_PATTERN,
    ID_RE,
    STORE_SUFFIX,
    check_id,
    safe_file,
    valid_id,
)

__all__ = ["CHUNK_PATTERN", "CHUNK_RE", "ID_PATTERN", "ID_RE", "STATE_DIR", "STORE_SUFFIX", "DataDir",
           "ImageState", "StoreRef", "check_id", "safe_file", "thumbnail_file", "valid_id"]
