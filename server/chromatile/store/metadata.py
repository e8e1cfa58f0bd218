"""Everything format-specific the server does with a store, in one place: OME-Zarr 0.4 (Zarr v2) and 0.5
(Zarr v3). What the metadata *means* (ImageMeta, defaults, the 0.4/0.5 documents) is the store
contract, :mod:`chromatile.storemeta`; this module is where the server reads and writes it, and the
rest of the server does not care which format a store is. It asks this module:

- :func:`root_file` / :func:`is_store`: which file makes a folder a store (`.zattrs` or `zarr.json`);
- :func:`version`: a key that changes whenever the store's metadata or the store itself is replaced;
- :func:`summarize`: the API summary (plain JSON types) of a store;
- :func:`grid_of` / :func:`check_chunk`: an array's chunk grid, and whether a chunk key lies in it;
- :func:`update_attrs`: read-modify-write of the group metadata (the "save as default" path);
- :func:`is_metadata_file`: whether a store file is metadata (JSON, revalidated) rather than a chunk.

To support another layout or metadata version, change this module (where the server finds and writes
metadata) and the store contract (what it means); nothing else in the server reads metadata.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chromatile import storemeta
from chromatile.errors import BadRequest, NotFound
from chromatile.store.fsio import atomic_write, read_json
from chromatile.store.paths import CHUNK_RE

V3_META = storemeta.ZARR_JSON
# Every file name that holds JSON metadata (answered as application/json, revalidated, not immutable).
METADATA_NAMES = frozenset({".zattrs", ".zgroup", ".zarray", ".zmetadata", V3_META})
# What a parse of foreign or damaged JSON can raise.
PARSE_ERRORS = (OSError, ValueError, KeyError, IndexError, TypeError, AttributeError, RecursionError,
                StopIteration, ZeroDivisionError, OverflowError)


@dataclass(frozen=True)
class Grid:
    """One array's chunk grid and how its chunk keys are spelled."""

    shape: tuple[int, ...]
    chunks: tuple[int, ...]
    prefix: str  # "c" for Zarr v3's default encoding, "" for v2 (and v3's "v2" encoding)
    separator: str  # "/" or "."


def root_file(store_real: str) -> str | None:
    """Path of the store's group metadata file (`zarr.json` for 0.5, else `.zattrs`), or None."""
    path = storemeta.metadata_file(store_real)
    return path if os.path.isfile(path) else None


def is_store(folder: str) -> bool:
    """Whether `folder` is a store (a folder holding group metadata of either format)."""
    return os.path.isdir(folder) and storemeta.is_store(folder)


def is_metadata_file(path: str) -> bool:
    """Whether a store file (by name) is JSON metadata."""
    return os.path.basename(path) in METADATA_NAMES


def version(store_real: str) -> str:
    """A key that changes whenever the store's metadata or the store itself is replaced."""
    path = root_file(store_real)
    if path is None:
        raise FileNotFoundError(store_real)
    st = os.stat(path)
    return f"{os.stat(store_real).st_ino}:{st.st_ino}:{st.st_mtime_ns}:{st.st_size}"


def summarize(image_id: str, store_real: str) -> dict[str, Any]:
    """The API summary of one store (:func:`chromatile.storemeta.summary`, plain JSON types).

    Raises NotFound naming the problem when the metadata is damaged or not what OME-Zarr says.
    """
    try:
        return storemeta.summary(image_id, storemeta.read_image(store_real))
    except PARSE_ERRORS as exc:
        raise NotFound(f"image {image_id!r} has unreadable metadata ({_what(exc)})") from None


def read_array(store_real: str, level: str, zarr_format: str) -> dict[str, Any]:
    """One array's chunk-file grid: shape, chunks (shards when sharded: the files), key encoding."""
    if zarr_format == "2":
        meta = read_json(os.path.join(store_real, level, ".zarray"))
        return {"shape": _ints(meta["shape"]), "chunks": _ints(meta["chunks"]), "prefix": "",
                "separator": meta.get("dimension_separator") or "."}
    meta = read_json(os.path.join(store_real, level, V3_META))
    if meta.get("node_type") != "array":
        raise TypeError(f"{level}/zarr.json is not an array")
    encoding = meta.get("chunk_key_encoding") or {"name": "default"}
    config = encoding.get("configuration") or {}
    if encoding.get("name") == "v2":
        prefix, separator = "", config.get("separator", ".")
    else:
        prefix, separator = "c", config.get("separator", "/")
    return {"shape": _ints(meta["shape"]), "prefix": prefix, "separator": separator,
            "chunks": _ints(meta["chunk_grid"]["configuration"]["chunk_shape"])}


def grid_of(store_real: str, level: str) -> Grid | None:
    """The chunk grid of array `level` (None if there is no such array or its metadata is damaged)."""
    for zarr_format, name in (("2", ".zarray"), ("3", V3_META)):
        if os.path.isfile(os.path.join(store_real, level, name)):
            try:
                array = read_array(store_real, level, zarr_format)
            except PARSE_ERRORS:
                return None
            if len(array["shape"]) != len(array["chunks"]) or any(c < 1 for c in array["chunks"]):
                return None
            return Grid(tuple(array["shape"]), tuple(array["chunks"]), array["prefix"],
                        array["separator"])
    return None


def grid_file(store_real: str, level: str) -> str | None:
    """The file :func:`grid_of` reads for `level` (its stat keys a cache), or None."""
    for name in (".zarray", V3_META):
        path = os.path.join(store_real, level, name)
        if os.path.isfile(path):
            return path
    return None


def check_chunk(path: str, grid: Grid | None) -> None:
    """Check that `path` (`<level>/<key>`) names a chunk inside `grid` (an absent one there is fill).

    Raises BadRequest for an index outside the grid and NotFound for a path that is no chunk.
    """
    if not CHUNK_RE.match(path):
        raise NotFound(f"no file {path[:80]!r} in this store")
    level, key = path.split("/", 1)
    if grid is None:
        raise NotFound(f"no level {level!r} in this store")
    if grid.prefix:
        if not key.startswith(grid.prefix + grid.separator):
            raise NotFound(f"no file {path!r} in this store")
        key = key[len(grid.prefix) + 1:]
    index = key.split(grid.separator)
    if len(index) != len(grid.shape) or not all(i.isdigit() for i in index):
        raise NotFound(f"no file {path!r} in this store")
    for axis, (i, n, c) in enumerate(zip(index, grid.shape, grid.chunks, strict=True)):
        if int(i) >= math.ceil(n / c):
            raise BadRequest(f"chunk index {i} on axis {axis} of level {level} is out of range "
                             f"(the grid has {math.ceil(n / c)})")


def update_attrs(store_real: str, change: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    """Apply `change` to the parsed group metadata document (`.zattrs` or `zarr.json`, as
    :func:`chromatile.storemeta.write_channels` takes it) and write the result back atomically (temp
    file + rename). The caller holds the DATA_DIR's write lock."""
    path = root_file(store_real)
    if path is None:
        raise NotFound("the store has no metadata")
    try:
        doc = read_json(path)
    except (ValueError, RecursionError):
        raise NotFound("the store's metadata is unreadable: it cannot be changed") from None
    if not isinstance(doc, dict):
        raise NotFound("the store's metadata is not a JSON object: it cannot be changed")
    atomic_write(path, (json.dumps(change(doc), indent=2) + "\n").encode())


def thumbnail_name(summary: dict[str, Any]) -> str | None:
    """The store-relative name of the thumbnail, if the store has one."""
    name = summary.get("thumbnail")
    return name if isinstance(name, str) and name else None


def _ints(values: Any) -> list[int]:
    if not isinstance(values, list) or not values or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in values):
        raise TypeError("shape/chunks must be a non-empty list of integers")
    return list(values)


def _what(exc: BaseException) -> str:
    """A one-line cause without file system paths."""
    if isinstance(exc, OSError):
        return os.strerror(exc.errno) if exc.errno else type(exc).__name__
    if isinstance(exc, RecursionError):
        return "JSON nested too deeply"
    text = str(exc).replace("\n", " ")[:200]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
