"""Facts about a store on disk that its metadata does not hold: bytes used and when it was ingested."""

from __future__ import annotations

import datetime
import os

# Array metadata of a level: written once when the level is written, never rewritten afterwards
# ("Save as default" rewrites only the group's attributes).
ARRAY_METADATA = (".zarray", "zarr.json")


def disk_bytes(root: str) -> int:
    """Total size of the regular files under `root` (symlinks are not followed)."""
    total = 0
    stack = [root]
    while stack:
        with os.scandir(stack.pop()) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                elif entry.is_file(follow_symlinks=False):
                    total += entry.stat(follow_symlinks=False).st_size
    return total


def ingested_at(store_real: str, level_path: str) -> str | None:
    """When the store's first level was written, as ISO 8601 UTC (seconds); None if unknown."""
    for name in ARRAY_METADATA:
        try:
            mtime = os.stat(os.path.join(store_real, level_path, name)).st_mtime
        except OSError:
            continue
        return datetime.datetime.fromtimestamp(int(mtime), datetime.UTC).isoformat().replace("+00:00", "Z")
    return None
