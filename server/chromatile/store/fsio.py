"""Small file helpers of the store: JSON read, atomic write, quiet remove, listing."""

from __future__ import annotations

import json
import os
import tempfile
from typing import Any


def read_json(path: str) -> Any:
    """The parsed JSON document at `path` (OSError/ValueError/RecursionError on a bad one)."""
    with open(path, "rb") as f:
        return json.loads(f.read())


def atomic_write(path: str, data: bytes) -> None:
    """Write `data` to a temp file beside `path`, fsync, then rename over `path`."""
    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        remove(tmp)
        raise


def remove(path: str) -> bool:
    """Remove a file; False if it was not there."""
    try:
        os.remove(path)
        return True
    except FileNotFoundError:
        return False


def list_names(folder: str) -> list[str]:
    """Sorted non-hidden names in `folder` ([] if it is missing or no folder)."""
    try:
        return sorted(n for n in os.listdir(folder) if not n.startswith("."))
    except (FileNotFoundError, NotADirectoryError):
        return []
