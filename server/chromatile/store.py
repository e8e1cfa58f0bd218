"""The on-disk layout of a DATA_DIR and of the stores in it; the only module that knows it.

A DATA_DIR holds `<id>.ome.zarr/` stores (docs/store-format.md) and a hidden `.chromatile/` folder with
per-image state that is not part of the immutable pixels:

    .chromatile/withdrawn/<id>   JSON {"reason": ..., "at": ...}: the image must not be served
    .chromatile/private/<id>     empty: the image needs a token
    .chromatile/secret           HMAC key of signed URL tokens (made on first `chromatile sign`)
    .chromatile/lock             serialises read-modify-write of `.zattrs` across processes

State is read with one `stat` per marker on every request, never cached, so `chromatile withdraw`
takes effect in every worker process on the next request. Nothing here knows HTTP.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import math
import os
import re
import secrets
import stat
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chromatile.errors import BadRequest, Forbidden, NotFound, UserError, Withdrawn

STORE_SUFFIX = ".ome.zarr"
STATE_DIR = ".chromatile"
ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}\Z")
# A path segment inside a store or the viewer folder: no leading dot, no separators.
SEGMENT_RE = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,254}\Z")
# The only hidden names ever served: Zarr's own metadata files.
ZARR_METADATA = frozenset({".zattrs", ".zgroup", ".zarray", ".zmetadata"})
CHUNK_RE = re.compile(r"\d+(?:/\d+){5}\Z")


@dataclass(frozen=True)
class ImageState:
    """Withdrawn/private flags of one image, read from marker files."""

    withdrawn: bool
    private: bool


def check_id(image_id: str) -> str:
    """Return `image_id` if it is a valid store id, else raise BadRequest."""
    if not ID_RE.match(image_id) or ".." in image_id:
        raise BadRequest(f"image id {image_id!r} is malformed: use letters, digits, '.', '_', '-' "
                         "(at most 128, no '..')")
    return image_id


def split_relative(path: str, *, allow_zarr_metadata: bool) -> list[str]:
    """Split a relative URL path into checked segments; BadRequest on anything that could escape."""
    if not path or path.startswith("/") or "\\" in path or "\x00" in path:
        raise BadRequest(f"path {path!r} is malformed")
    segments = path.split("/")
    last = len(segments) - 1
    for i, seg in enumerate(segments):
        if SEGMENT_RE.match(seg) and ".." not in seg:
            continue
        if allow_zarr_metadata and i == last and seg in ZARR_METADATA:
            continue
        raise BadRequest(f"path {path!r} is malformed: segment {seg!r} is not allowed")
    return segments


def inside(real: str, root_real: str) -> bool:
    """Whether the resolved path `real` lies strictly inside the resolved folder `root_real`."""
    return real.startswith(root_real + os.sep)


def safe_file(root: str | Path, path: str, *, allow_zarr_metadata: bool = False) -> str:
    """Resolve `path` under folder `root` refusing traversal, hidden names and symlinks leaving it.

    Returns the resolved path (which may not exist). Raises BadRequest or Forbidden.
    """
    segments = split_relative(path, allow_zarr_metadata=allow_zarr_metadata)
    root_real = os.path.realpath(root)
    real = os.path.realpath(os.path.join(root_real, *segments))
    if not inside(real, root_real):
        raise Forbidden(f"path {path!r} leaves its folder")
    return real


class DataDir:
    """A folder of stores plus their withdrawn/private state. Cheap methods; safe across processes."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise UserError(f"data directory {str(self.root)!r} does not exist or is not a directory")
        self.real = os.path.realpath(self.root)
        self.state_dir = os.path.join(self.real, STATE_DIR)
        self._withdrawn_dir = os.path.join(self.state_dir, "withdrawn")
        self._private_dir = os.path.join(self.state_dir, "private")
        self._grids: dict[tuple[str, int, int], tuple[tuple[int, ...], ...]] = {}

    # -- discovery and lookup -------------------------------------------------------------------

    def store_dir(self, image_id: str) -> str:
        """The (unresolved) path of a store; no I/O."""
        return os.path.join(self.real, image_id + STORE_SUFFIX)

    def mtime_ns(self) -> int:
        """Modification time of DATA_DIR itself: changes when a store is renamed in or removed."""
        return os.stat(self.real).st_mtime_ns

    def discover(self) -> list[str]:
        """Ids of every servable store in DATA_DIR, sorted; hidden and partial names are skipped."""
        ids = []
        with os.scandir(self.real) as entries:
            for entry in entries:
                name = entry.name
                if name.startswith(".") or not name.endswith(STORE_SUFFIX):
                    continue
                image_id = name[: -len(STORE_SUFFIX)]
                if not ID_RE.match(image_id) or ".." in image_id:
                    continue
                try:
                    self.resolve_store(image_id)
                except UserError:
                    continue
                ids.append(image_id)
        return sorted(ids)

    def resolve_store(self, image_id: str) -> str:
        """Resolved folder of an existing store inside DATA_DIR; NotFound/Forbidden otherwise."""
        check_id(image_id)
        real = os.path.realpath(self.store_dir(image_id))
        if not inside(real, self.real):
            raise Forbidden(f"store {image_id!r} is a link that leaves the data directory")
        if not os.path.isdir(real) or not os.path.isfile(os.path.join(real, ".zattrs")):
            raise NotFound(f"no image {image_id!r}")
        return real

    def resolve_store_file(self, image_id: str, path: str) -> tuple[str, str]:
        """(store folder, file) resolved for `GET /data/<id>.ome.zarr/<path>`; the file may be missing."""
        store_real = self.resolve_store(image_id)
        segments = split_relative(path, allow_zarr_metadata=True)
        real = os.path.realpath(os.path.join(store_real, *segments))
        if not inside(real, store_real):
            raise Forbidden(f"path {path!r} leaves store {image_id!r}")
        return store_real, real

    def open_chunk(self, image_id: str, path: str) -> tuple[int, os.stat_result] | None:
        """Open a chunk of a plain (non-aliased) store for the hot path, or None for the careful path.

        `image_id` must match ID_RE and `path` CHUNK_RE (digits only, so no hidden or `..` segment).
        The file actually opened is checked through /proc/self/fd: one syscall instead of a realpath
        walk, and race-free. None when anything is unusual (missing file, symlinks, withdrawn or private
        state are handled by the caller's slow path); the caller closes the descriptor.
        """
        prefix = self._store_prefix(image_id)
        try:
            # O_NONBLOCK: a FIFO planted under a chunk name must not hang the worker (no effect on files)
            fd = os.open(prefix + path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
        except OSError:
            return None
        try:
            if os.readlink(f"/proc/self/fd/{fd}") == prefix + path:
                st = os.fstat(fd)
                if stat.S_ISREG(st.st_mode):
                    return fd, st
        except OSError:
            pass
        os.close(fd)
        return None

    def _store_prefix(self, image_id: str) -> str:
        return f"{self.real}/{image_id}{STORE_SUFFIX}/"

    def chunk_in_grid(self, store_real: str, path: str) -> None:
        """Check that `path` names a chunk inside its level's grid (an absent one there means all zeros).

        Raises BadRequest for a chunk index outside the grid and NotFound for a path that is no chunk.
        """
        if not CHUNK_RE.match(path):
            raise NotFound(f"no file {path!r} in this store")
        level, *index = path.split("/")
        grid = self._grid(store_real, level)
        if grid is None:
            raise NotFound(f"no level {level!r} in this store")
        shape, chunks = grid
        for axis, (i, n, c) in enumerate(zip(index, shape, chunks, strict=True)):
            if int(i) >= math.ceil(n / c):
                raise BadRequest(f"chunk index {i} on axis {axis} of level {level} is out of range "
                                 f"(the grid has {math.ceil(n / c)})")

    def _grid(self, store_real: str, level: str) -> tuple[tuple[int, ...], ...] | None:
        zarray = os.path.join(store_real, level, ".zarray")
        try:
            st = os.stat(zarray)
        except OSError:
            return None
        key = (zarray, st.st_ino, st.st_mtime_ns)
        grid = self._grids.get(key)
        if grid is None:
            meta = _read_json(zarray)
            grid = (tuple(meta["shape"]), tuple(meta["chunks"]))
            if len(self._grids) > 4096:
                self._grids.clear()
            self._grids[key] = grid
        return grid

    # -- withdrawn / private state --------------------------------------------------------------

    def state(self, image_id: str) -> ImageState:
        """Current flags, read from disk now (two stats)."""
        # string concatenation, not os.path.join: this runs on every request (image_id is checked)
        return ImageState(
            withdrawn=os.path.exists(self._withdrawn_dir + os.sep + image_id),
            private=os.path.exists(self._private_dir + os.sep + image_id),
        )

    def check_not_withdrawn(self, image_id: str) -> None:
        """Raise Withdrawn (with the recorded reason) if the image is withdrawn."""
        marker = os.path.join(self._withdrawn_dir, image_id)
        if os.path.exists(marker):
            reason = ""
            # the marker alone is what matters; the reason is a courtesy
            with contextlib.suppress(OSError, ValueError):
                reason = str(_read_json(marker).get("reason") or "")
            raise Withdrawn(f"image {image_id!r} was withdrawn" + (f": {reason}" if reason else ""))

    def withdraw(self, image_id: str, reason: str = "") -> None:
        """Mark an existing store withdrawn; effective for every process at once."""
        self.resolve_store(image_id)
        body = json.dumps({"reason": reason, "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
        _atomic_write(os.path.join(self._withdrawn_dir, image_id), body.encode())

    def restore(self, image_id: str) -> bool:
        """Remove the withdrawn mark; False if the image was not withdrawn."""
        check_id(image_id)
        return _remove(os.path.join(self._withdrawn_dir, image_id))

    def set_private(self, image_id: str, private: bool) -> bool:
        """Mark or unmark an image private; False if nothing changed."""
        marker = os.path.join(self._private_dir, image_id)
        if not private:
            check_id(image_id)
            return _remove(marker)
        self.resolve_store(image_id)
        if os.path.exists(marker):
            return False
        _atomic_write(marker, b"")
        return True

    def withdrawn_ids(self) -> list[str]:
        """Ids with a withdrawn mark."""
        return _list(self._withdrawn_dir)

    def private_ids(self) -> list[str]:
        """Ids with a private mark."""
        return _list(self._private_dir)

    def signing_secret(self, *, create: bool = False) -> bytes | None:
        """The DATA_DIR's own HMAC key, made (0600) on first use when `create`."""
        path = os.path.join(self.state_dir, "secret")
        try:
            with open(path, "rb") as f:
                return f.read().strip()
        except FileNotFoundError:
            if not create:
                return None
        os.makedirs(self.state_dir, exist_ok=True)
        key = secrets.token_hex(32).encode()
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first: use theirs
            return self.signing_secret()
        with os.fdopen(fd, "wb") as f:
            f.write(key)
        return key

    # -- metadata ---------------------------------------------------------------------------------

    def zattrs_path(self, store_real: str) -> str:
        """Path of a store's `.zattrs`."""
        return os.path.join(store_real, ".zattrs")

    def metadata_version(self, store_real: str) -> str:
        """A key that changes whenever the store's metadata or the store itself is replaced."""
        st = os.stat(self.zattrs_path(store_real))
        return f"{os.stat(store_real).st_ino}:{st.st_ino}:{st.st_mtime_ns}:{st.st_size}"

    def read_summary(self, image_id: str, store_real: str) -> dict[str, Any]:
        """Parse a store's metadata into the API's summary (plain JSON types)."""
        try:
            return summarize(image_id, store_real)
        except (OSError, ValueError, KeyError, IndexError, TypeError) as exc:
            raise NotFound(f"image {image_id!r} has unreadable metadata ({type(exc).__name__}: {exc})") \
                from None

    def update_zattrs(self, image_id: str, change: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
        """Read-modify-write a store's `.zattrs` atomically (temp file + rename), one writer at a time."""
        os.makedirs(self.state_dir, exist_ok=True)
        with open(os.path.join(self.state_dir, "lock"), "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            store_real = self.resolve_store(image_id)
            path = self.zattrs_path(store_real)
            new = change(_read_json(path))
            _atomic_write(path, (json.dumps(new, indent=2) + "\n").encode())


def summarize(image_id: str, store_real: str) -> dict[str, Any]:
    """The API summary of one store: shape per axis, levels, pixel sizes, channels with defaults."""
    attrs = _read_json(os.path.join(store_real, ".zattrs"))
    ms = attrs["multiscales"][0]
    omero = attrs.get("omero", {})
    extra = attrs.get("chromatile", {})
    axes = [dict(a) for a in ms["axes"]]
    names = [a["name"] for a in axes]
    levels = []
    base_scale: list[float] | None = None
    for ds in ms["datasets"]:
        zarray = _read_json(os.path.join(store_real, ds["path"], ".zarray"))
        scale = next(t["scale"] for t in ds["coordinateTransformations"] if t["type"] == "scale")
        base_scale = base_scale or scale
        levels.append({
            "path": ds["path"],
            "shape": zarray["shape"],
            "chunks": zarray["chunks"],
            "scale": scale,
            "downsample": [s / b if b else 1 for s, b in zip(scale, base_scale, strict=True)],
            "dtype": zarray["dtype"],
            "compressor": (zarray.get("compressor") or {}).get("id"),
        })
    shape0 = levels[0]["shape"]
    physical = {}
    for i, axis in enumerate(axes):
        if axis.get("type") == "space":
            physical[axis["name"]] = {"size": base_scale[i] if base_scale else 1, "unit": axis.get("unit")}
    rendering = extra.get("rendering") or []
    stats = extra.get("channels") or []
    channels = []
    for i, ch in enumerate(omero.get("channels", [])):
        window = ch.get("window", {})
        render = rendering[i] if i < len(rendering) else {}
        stat = stats[i] if i < len(stats) else {}
        channels.append({
            "index": i,
            "label": ch.get("label", f"channel {i}"),
            "color": ch.get("color", "FFFFFF"),
            "active": ch.get("active", True),
            "inverted": ch.get("inverted", False),
            "window": {k: window.get(k) for k in ("start", "end", "min", "max")},
            "gamma": render.get("gamma", 1.0),
            "colormap": render.get("colormap", "color"),
            "min": stat.get("min"),
            "max": stat.get("max"),
            "histogram": stat.get("histogram"),
        })
    rdefs = omero.get("rdefs", {})
    return {
        "id": image_id,
        "name": ms.get("name") or omero.get("name") or image_id,
        "axes": axes,
        "shape": dict(zip(names, shape0, strict=True)),
        "dtype": extra.get("dtype") or levels[0]["dtype"],
        "tile": extra.get("tile") or levels[0]["chunks"][-1],
        "levels": levels,
        "physical_sizes": physical,
        "channels": channels,
        "default_z": rdefs.get("defaultZ", 0),
        "default_t": rdefs.get("defaultT", 0),
        "thumbnail": extra.get("thumbnail"),
        "source": extra.get("source"),
    }


def thumbnail_file(store_real: str, summary: dict[str, Any]) -> str:
    """Resolved path of the store's thumbnail (NotFound if it has none)."""
    name = summary.get("thumbnail")
    if not name:
        raise NotFound(f"image {summary['id']!r} has no thumbnail")
    real = safe_file(store_real, name)
    if not os.path.isfile(real):
        raise NotFound(f"image {summary['id']!r} has no thumbnail file {name!r}")
    return real


def _read_json(path: str) -> Any:
    with open(path, "rb") as f:
        return json.loads(f.read())


def _atomic_write(path: str, data: bytes) -> None:
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
        _remove(tmp)
        raise


def _remove(path: str) -> bool:
    try:
        os.remove(path)
        return True
    except FileNotFoundError:
        return False


def _list(folder: str) -> list[str]:
    try:
        return sorted(n for n in os.listdir(folder) if not n.startswith("."))
    except FileNotFoundError:
        return []
