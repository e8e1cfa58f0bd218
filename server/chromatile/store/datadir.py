"""A DATA_DIR: which stores it holds, where each one's files are, and the hot-path open of a chunk.

A DATA_DIR holds `<id>.ome.zarr/` stores (docs/store-format.md) and a hidden `.chromatile/` folder with
per-image state (:mod:`chromatile.store.markers`), the signing secret (:mod:`chromatile.store.secret`)
and `lock`, which serialises metadata rewrites across processes. What a store's metadata says is
:mod:`chromatile.store.metadata`'s business; this module only finds stores and files. Nothing here
knows HTTP.

Aliases: a store may be a symlink to another store of the same DATA_DIR. It then shares its target's
state on every URL: the image is withdrawn (or private) when the alias's own name or its target's name
is. A symlink that leaves DATA_DIR is refused (403).
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chromatile.errors import Forbidden, InsufficientStorage, NotFound, Unavailable, UserError, Withdrawn
from chromatile.store import metadata
from chromatile.store.markers import ImageState, Markers
from chromatile.store.paths import STORE_SUFFIX, check_id, inside, safe_file, split_relative, valid_id
from chromatile.store.secret import read_secret

STATE_DIR = ".chromatile"


@dataclass(frozen=True)
class StoreRef:
    """A store found in DATA_DIR: the id asked for, its resolved folder, and every name whose state
    applies to it (the id, plus the target's id when the store is an alias)."""

    image_id: str
    real: str
    names: tuple[str, ...]


class DataDir:
    """A folder of stores plus their state. Cheap methods; safe across processes."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise UserError(f"data directory {str(self.root)!r} does not exist or is not a directory")
        self.real = os.path.realpath(self.root)
        self.state_dir = os.path.join(self.real, STATE_DIR)
        self.markers = Markers(self.state_dir)
        self._grids: dict[tuple[str, int, int], metadata.Grid | None] = {}

    # -- discovery and lookup -------------------------------------------------------------------

    def store_dir(self, image_id: str) -> str:
        """The (unresolved) path of a store; no I/O."""
        return os.path.join(self.real, image_id + STORE_SUFFIX)

    def mtime_ns(self) -> int:
        """Modification time of DATA_DIR itself: changes when a store is renamed in or removed."""
        try:
            return os.stat(self.real).st_mtime_ns
        except OSError:
            raise self._gone() from None

    def discover(self) -> list[str]:
        """Ids of every servable store in DATA_DIR, sorted; hidden and partial names are skipped."""
        ids = []
        try:
            entries = list(os.scandir(self.real))
        except OSError:
            raise self._gone() from None
        for entry in entries:
            name = entry.name
            if name.startswith(".") or not name.endswith(STORE_SUFFIX):
                continue
            image_id = name[: -len(STORE_SUFFIX)]
            if not valid_id(image_id):
                continue
            try:
                self.find(image_id)
            except UserError:
                continue
            ids.append(image_id)
        return sorted(ids)

    def find(self, image_id: str) -> StoreRef:
        """The existing store `image_id`; NotFound, Forbidden (a link leaving DATA_DIR), Unavailable."""
        check_id(image_id)
        real = os.path.realpath(self.store_dir(image_id))
        if not inside(real, self.real):
            raise Forbidden(f"store {image_id!r} is a link that leaves the data directory")
        if not metadata.is_store(real):
            if not os.path.isdir(self.real):
                raise self._gone()
            raise NotFound(f"no image {image_id!r}")
        names: tuple[str, ...] = (image_id,)
        parent, base = os.path.split(real)
        if parent == self.real and base.endswith(STORE_SUFFIX):
            target = base[: -len(STORE_SUFFIX)]
            if target != image_id and valid_id(target):
                names = (image_id, target)
        return StoreRef(image_id, real, names)

    def resolve_store(self, image_id: str) -> str:
        """Resolved folder of an existing store inside DATA_DIR; NotFound/Forbidden otherwise."""
        return self.find(image_id).real

    def resolve_file(self, store: StoreRef, path: str) -> str:
        """The file `path` of `store` resolved (it may be missing); refuses anything leaving the store."""
        segments = split_relative(path, allow_hidden_metadata=True)
        real = os.path.realpath(os.path.join(store.real, *segments))
        if not inside(real, store.real):
            raise Forbidden(f"path {path!r} leaves store {store.image_id!r}")
        return real

    def open_chunk(self, image_id: str, path: str) -> tuple[int, os.stat_result] | None:
        """Open a chunk of a plain (non-aliased) store for the hot path, or None for the careful path.

        `image_id` must be valid and `path` match CHUNK_RE (digits only: no hidden or `..` segment).
        The file actually opened is checked through /proc/self/fd: one syscall instead of a realpath
        walk, and race-free. None when anything is unusual (missing file, symlinks, an alias: the
        careful path handles those); the caller closes the descriptor.
        """
        wanted = f"{self.real}/{image_id}{STORE_SUFFIX}/{path}"
        try:
            # O_NONBLOCK: a FIFO planted under a chunk name must not hang the worker (no effect on files)
            fd = os.open(wanted, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
        except OSError:
            return None
        try:
            if os.readlink(f"/proc/self/fd/{fd}") == wanted:
                st = os.fstat(fd)
                if stat.S_ISREG(st.st_mode):
                    return fd, st
        except OSError:
            pass
        os.close(fd)
        return None

    def check_chunk(self, store: StoreRef, path: str) -> None:
        """BadRequest for a chunk index outside its level's grid, NotFound for a path that is no chunk;
        returns quietly for an absent chunk inside the grid (it is all fill value)."""
        level = path.split("/", 1)[0]
        metadata.check_chunk(path, self._grid(store.real, level))

    def _grid(self, store_real: str, level: str) -> metadata.Grid | None:
        path = metadata.grid_file(store_real, level)
        if path is None:
            return None
        try:
            st = os.stat(path)
        except OSError:
            return None
        key = (path, st.st_ino, st.st_mtime_ns)
        if key not in self._grids:
            if len(self._grids) > 4096:
                self._grids.clear()
            self._grids[key] = metadata.grid_of(store_real, level)
        return self._grids[key]

    def _gone(self) -> Unavailable:
        return Unavailable("the data directory is not available (moved, unmounted or removed); "
                           "retry later")

    # -- state ------------------------------------------------------------------------------------

    def state(self, *names: str) -> ImageState:
        """Withdrawn/private flags of an image known under `names`, read from disk now."""
        return self.markers.state(*names)

    def check_not_withdrawn(self, *names: str) -> None:
        """Raise Withdrawn (with the recorded reason) if the image is withdrawn."""
        if self.markers.state(*names).withdrawn:
            raise self.withdrawn_error(*names)

    def withdrawn_error(self, *names: str) -> Withdrawn:
        """The 410 error of a withdrawn image, with its recorded reason if one can be read."""
        reason = self.markers.reason(*names)
        return Withdrawn(f"image {names[0]!r} was withdrawn" + (f": {reason}" if reason else ""))

    def withdraw(self, image_id: str, reason: str = "") -> None:
        """Mark an existing store withdrawn; effective for every process at once."""
        self.find(image_id)
        self.markers.withdraw(image_id, reason)

    def restore(self, image_id: str) -> bool:
        """Remove the withdrawn mark; False if the image was not withdrawn."""
        check_id(image_id)
        return self.markers.restore(image_id)

    def set_private(self, image_id: str, private: bool) -> bool:
        """Mark or unmark an image private; False if nothing changed."""
        if private:
            self.find(image_id)
        else:
            check_id(image_id)
        return self.markers.set_private(image_id, private)

    def withdrawn_ids(self) -> list[str]:
        """Names with a withdrawn mark."""
        return sorted(self.markers.withdrawn_ids())

    def private_ids(self) -> list[str]:
        """Names with a private mark."""
        return sorted(self.markers.private_ids())

    def signing_secret(self, *, create: bool = False) -> bytes | None:
        """The DATA_DIR's own HMAC key, made (0600) on first use when `create`."""
        return read_secret(self.state_dir, create=create)

    # -- metadata -------------------------------------------------------------------------------------

    def metadata_version(self, store_real: str) -> str:
        """A key that changes whenever the store's metadata or the store itself is replaced."""
        return metadata.version(store_real)

    def read_summary(self, image_id: str, store_real: str) -> dict[str, Any]:
        """Parse a store's metadata into the API's summary (plain JSON types)."""
        return metadata.summarize(image_id, store_real)

    def update_attrs(self, image_id: str, change: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
        """Read-modify-write a store's attributes atomically, one writer at a time across processes.

        Unavailable if the lock cannot be taken; InsufficientStorage (nothing changed) on a full disk.
        """
        try:
            os.makedirs(self.state_dir, exist_ok=True)
            lock = open(os.path.join(self.state_dir, "lock"), "a+b")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise Unavailable("cannot take the metadata write lock in DATA_DIR/.chromatile "
                              f"({os.strerror(exc.errno or 0) or type(exc).__name__})") from None
        with lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            store = self.find(image_id)
            try:
                metadata.update_attrs(store.real, change)
            except OSError as exc:
                if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                    raise InsufficientStorage(f"no space left to save the metadata of {image_id!r}; "
                                              "it is unchanged") from None
                raise Unavailable(f"cannot write the metadata of {image_id!r} "
                                  f"({os.strerror(exc.errno or 0) or type(exc).__name__}); "
                                  "it is unchanged") from None


def thumbnail_file(store_real: str, summary: dict[str, Any]) -> str:
    """Resolved path of the store's thumbnail (NotFound if it has none)."""
    name = metadata.thumbnail_name(summary)
    if not name:
        raise NotFound(f"image {summary['id']!r} has no thumbnail")
    real = safe_file(store_real, name)
    if not os.path.isfile(real):
        raise NotFound(f"image {summary['id']!r} has no thumbnail file {name!r}")
    return real
