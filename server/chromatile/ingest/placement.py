"""Crash-safe placement of a store: write under a hidden temp name, rename into place when complete.

Temp names carry the writer's pid (``.<id>.ome.zarr.partial-<pid>-<random>``) so a later run can
tell a crashed writer's leftovers from a concurrent writer's work in progress.
"""

from __future__ import annotations

import ctypes
import errno
import os
import re
import secrets
import shutil
from pathlib import Path

from chromatile.ingest.errors import IngestError, one_line
from chromatile.store import ID_RE, STORE_SUFFIX


def check_id(image_id: str) -> str:
    """Return ``image_id`` if it is a valid store id (the server's rule), else raise naming the problem."""
    if not ID_RE.match(image_id) or ".." in image_id:
        raise IngestError(
            f"invalid id {image_id!r}: use 1-128 letters, digits, '.', '_' or '-', starting with a letter "
            "or digit, without '/' or '..'"
        )
    return image_id


def id_from_path(path: Path) -> str:
    """A store id derived from a source file or folder name (``a b.ome.tif`` -> ``a-b``, ``x.ome.zarr`` -> ``x``)."""
    name = path.resolve().name
    for ext in (".ome.tiff", ".ome.tif", ".tiff", ".tif", ".ome.zarr", ".zarr"):
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


# Hidden names of this module's temp stores: `.<id>.ome.zarr.partial-<pid>-<hex>` (a store being written)
# and `.<id>.ome.zarr.old-<pid>-<hex>` (an old store set aside during a two-rename --overwrite swap).
_TEMP_RE = re.compile(r"\.(?P<id>.+)" + re.escape(STORE_SUFFIX) + r"\.(?P<kind>partial|old)-(?P<pid>\d+)-[0-9a-f]+")


def _stale(dest_dir: Path) -> list[tuple[str, str, Path]]:
    """(kind, id, path) of every temp store in ``dest_dir`` whose writer process is gone."""
    found = []
    for entry in dest_dir.iterdir():
        match = _TEMP_RE.fullmatch(entry.name)
        if match and not _alive(int(match.group("pid"))):
            found.append((match.group("kind"), match.group("id"), entry))
    return found


def recover(dest_dir: Path) -> None:
    """Clean what crashed ingests of any id left in ``dest_dir``: partial stores are deleted; an old
    store set aside during an --overwrite swap is put back if the new one never arrived, else deleted.
    Temp stores of writers still running (another ingest at work) are left alone."""
    stale = _stale(dest_dir)
    for kind, image_id, old in stale:
        if kind != "old":
            continue
        final = dest_dir / f"{image_id}{STORE_SUFFIX}"
        if not final.exists():
            os.rename(old, final)
        else:
            shutil.rmtree(old, ignore_errors=True)
    for kind, _, partial in stale:
        if kind == "partial":
            shutil.rmtree(partial, ignore_errors=True)


def prepare_dest(dest_dir: Path) -> list[Path]:
    """Create DEST_DIR if needed; raise a one-line error when it cannot hold a store.

    Returns the directories this call created (deepest last), so a failed ingest can remove them.
    """
    if dest_dir.exists() and not dest_dir.is_dir():
        raise IngestError(f"{dest_dir}: destination exists and is not a directory")
    created: list[Path] = []
    for parent in [dest_dir, *dest_dir.parents]:
        if parent.exists():
            break
        created.insert(0, parent)
    try:
        dest_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise IngestError(f"{dest_dir}: cannot create destination directory ({one_line(exc)})") from exc
    return created


def remove_created(created: list[Path]) -> None:
    """Remove directories made by :func:`prepare_dest` that are still empty (deepest first)."""
    for path in reversed(created):
        try:
            path.rmdir()
        except OSError:
            return


def make_partial(dest_dir: Path, image_id: str) -> Path:
    """Create this run's hidden temp directory."""
    path = dest_dir / f".{image_id}{STORE_SUFFIX}.partial-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        path.mkdir()
    except OSError as exc:
        raise IngestError(f"{dest_dir}: destination is not writable ({one_line(exc)})") from exc
    return path


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step with Linux ``renameat2(RENAME_EXCHANGE)``; False where unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):  # kernel or filesystem without exchange
        return False
    raise OSError(code, os.strerror(code), str(a))


def check_free(final: Path, overwrite: bool) -> None:
    """Refuse to replace an existing store unless ``overwrite`` was asked for."""
    if final.exists() and not overwrite:
        raise IngestError(f"{final}: store already exists; pass --overwrite to replace it")


def commit(partial: Path, final: Path, overwrite: bool) -> None:
    """Rename the finished store into place; with ``overwrite`` swap it for the old one.

    The swap is one ``renameat2(RENAME_EXCHANGE)`` where the system has it, so a reader always sees
    either the whole old store or the whole new one; elsewhere it is two renames, and a crash between
    them is repaired by :func:`recover` on the next run.
    """
    try:
        if not final.exists():
            os.rename(partial, final)
            return
        check_free(final, overwrite)  # again: another ingest of this id may have finished meanwhile
        aside = final.with_name(f".{final.name}.old-{os.getpid()}-{secrets.token_hex(4)}")
        if _exchange(partial, final):
            shutil.rmtree(partial, ignore_errors=True)  # now holds the old store
            return
        os.rename(final, aside)
        try:
            os.rename(partial, final)
        except OSError:
            os.rename(aside, final)
            raise
        shutil.rmtree(aside, ignore_errors=True)
    except OSError as exc:
        # e.g. another ingest of the same id finished first (ENOTEMPTY)
        raise IngestError(f"{final}: cannot move the new store into place ({one_line(exc)})") from exc
