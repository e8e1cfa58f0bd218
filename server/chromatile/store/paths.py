"""Names and path safety: what an image id, a store file and a chunk key look like, defined once.

Every pattern the server matches a URL against lives here (the fast path builds its URL pattern from
these), and every path a request names is resolved here so that it cannot leave its folder.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from chromatile.errors import BadRequest, Forbidden

STORE_SUFFIX = ".ome.zarr"
# An image id (the store's name without STORE_SUFFIX); callers also refuse ids containing "..".
ID_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}"
ID_RE = re.compile(ID_PATTERN + r"\Z")
# A path segment inside a store or the viewer folder: no leading dot, no separators, at most 255 bytes.
SEGMENT_RE = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,254}\Z")
# Hidden names that are served: Zarr v2's metadata files (v3's `zarr.json` is a plain name).
HIDDEN_METADATA = frozenset({".zattrs", ".zgroup", ".zarray", ".zmetadata"})
# A chunk (or shard) file: `<level>/<key>`, the key being Zarr v2's `i/j/...` (or `i.j...`) or Zarr
# v3's `c/i/j/...` (or `c.i.j...`), 1 to 8 dimensions. Digits only, so never a hidden or `..` segment.
_INDEX = r"\d{1,9}"
CHUNK_PATTERN = rf"{_INDEX}/(?:c[/.])?{_INDEX}(?:[/.]{_INDEX}){{0,7}}"
CHUNK_RE = re.compile(CHUNK_PATTERN + r"\Z")
# The longest relative path we look at: far below PATH_MAX (4096) once DATA_DIR is prepended.
MAX_PATH = 1024


def valid_id(image_id: str) -> bool:
    """Whether `image_id` can name a store."""
    return ID_RE.match(image_id) is not None and ".." not in image_id


def check_id(image_id: str) -> str:
    """Return `image_id` if it is a valid store id, else raise BadRequest."""
    if not valid_id(image_id):
        raise BadRequest(f"image id {_short(image_id)!r} is malformed: use letters, digits, '.', '_', "
                         "'-' (at most 128, no '..')")
    return image_id


def split_relative(path: str, *, allow_hidden_metadata: bool) -> list[str]:
    """Split a relative URL path into checked segments; BadRequest on anything that could escape."""
    if len(path) > MAX_PATH:
        raise BadRequest(f"path is too long ({len(path)} characters; at most {MAX_PATH})")
    if not path or path.startswith("/") or "\\" in path or "\x00" in path:
        raise BadRequest(f"path {_short(path)!r} is malformed")
    segments = path.split("/")
    last = len(segments) - 1
    for i, seg in enumerate(segments):
        if SEGMENT_RE.match(seg) and ".." not in seg:
            continue
        if allow_hidden_metadata and i == last and seg in HIDDEN_METADATA:
            continue
        raise BadRequest(f"path {_short(path)!r} is malformed: segment {_short(seg)!r} is not allowed")
    return segments


def inside(real: str, root_real: str) -> bool:
    """Whether the resolved path `real` lies strictly inside the resolved folder `root_real`."""
    return real.startswith(root_real + os.sep)


def safe_file(root: str | Path, path: str, *, allow_hidden_metadata: bool = False) -> str:
    """Resolve `path` under folder `root` refusing traversal, hidden names and symlinks leaving it.

    Returns the resolved path (which may not exist). Raises BadRequest or Forbidden.
    """
    segments = split_relative(path, allow_hidden_metadata=allow_hidden_metadata)
    root_real = os.path.realpath(root)
    real = os.path.realpath(os.path.join(root_real, *segments))
    if not inside(real, root_real):
        raise Forbidden(f"path {_short(path)!r} leaves its folder")
    return real


def _short(text: str, limit: int = 80) -> str:
    """`text` cut for an error message (a 5,000-character name must not come back whole)."""
    return text if len(text) <= limit else text[:limit] + "..."
