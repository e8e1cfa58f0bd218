"""Crash-safe placement of a store: write under a hidden temp name, rename into place when complete.

Temp names carry the writer's pid (``.<id>.ome.zarr.partial-<pid>-<random>``) so a later run can
tell a crashed writer's leftovers from a concurrent writer's work in progress.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
from pathlib import Path

from chromatile.ingest.errors import IngestError, one_line

ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
SUFFIX = ".ome.zarr"


def check_id(image_id: str) -> str:
    """Return ``image_id`` if it is a valid store id, else raise naming the problem."""
    if not ID_PATTERN.fullmatch(image_id) or ".." in image_id:
        raise IngestError(
            f"invalid id {image_id!r}: use 1-128 letters, digits, '.', '_' or '-', starting with a letter "
            "or digit, without '/' or '..'"
        )
    return image_id


def id_from_path(path: Path) -> str:
    """A store id derived from a source file or folder name (``a b.ome.tif`` -> ``a-b``)."""
    name = path.resolve().name
    for ext in (".ome.tiff", ".ome.tif", ".tiff", ".tif"):
        if name.lower().endswith(ext):
            name = name[: -len(ext)]
            break
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-._")
    name = re.sub(r"\.{2,}", ".", name)[:128]
    return name or "image"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _stale(dest_dir: Path, image_id: str, kind: str) -> list[Path]:
    pattern = re.compile(re.escape(f".{image_id}{SUFFIX}.{kind}-") + r"(\d+)-[0-9a-f]+")
    found = []
    for entry in dest_dir.iterdir():
        match = pattern.fullmatch(entry.name)
        if match and not _alive(int(match.group(1))):
            found.append(entry)
    return found


def recover(dest_dir: Path, image_id: str) -> None:
    """Clean what a crashed ingest of ``image_id`` left: partial stores, and an old store set aside
    during an --overwrite swap (put back if the new one never arrived, else deleted)."""
    final = dest_dir / f"{image_id}{SUFFIX}"
    for old in _stale(dest_dir, image_id, "old"):
        if not final.exists():
            os.rename(old, final)
        else:
            shutil.rmtree(old, ignore_errors=True)
    for partial in _stale(dest_dir, image_id, "partial"):
        shutil.rmtree(partial, ignore_errors=True)


def prepare_dest(dest_dir: Path) -> Path:
    """Create DEST_DIR if needed; raise a one-line error when it cannot hold a store."""
    if dest_dir.exists() and not dest_dir.is_dir():
        raise IngestError(f"{dest_dir}: destination exists and is not a directory")
    try:
        dest_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise IngestError(f"{dest_dir}: cannot create destination directory ({one_line(exc)})") from exc
    return dest_dir


def make_partial(dest_dir: Path, image_id: str) -> Path:
    """Create this run's hidden temp directory."""
    path = dest_dir / f".{image_id}{SUFFIX}.partial-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        path.mkdir()
    except OSError as exc:
        raise IngestError(f"{dest_dir}: destination is not writable ({one_line(exc)})") from exc
    return path


def commit(partial: Path, final: Path, overwrite: bool) -> None:
    """Rename the finished store into place; with ``overwrite`` swap it for the old one."""
    if not final.exists():
        os.rename(partial, final)
        return
    if not overwrite:
        raise IngestError(f"{final}: store already exists; pass --overwrite to replace it")
    aside = final.with_name(f".{final.name}.old-{os.getpid()}-{secrets.token_hex(4)}")
    os.rename(final, aside)
    try:
        os.rename(partial, final)
    except OSError:
        os.rename(aside, final)
        raise
    shutil.rmtree(aside, ignore_errors=True)
