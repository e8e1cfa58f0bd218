"""The catalog: which images a DATA_DIR holds and their parsed metadata, cached and kept current.

Discovery re-reads DATA_DIR when its mtime changes (a store renamed in or removed), when that mtime is
too recent to trust (timestamps are coarser than a burst of renames), and at least every
`rescan_interval_ms`. Parsed metadata is cached under a key that holds the store's and `.zattrs`'s
inode and mtime, so a rewritten `.zattrs` or a replaced store is never answered from a stale entry.
The cache is anything with `get(key)` and `set(key, value)` (a flask-caching Cache in the app).
"""

from __future__ import annotations

import threading
import time
from typing import Any, Protocol

from chromatile import storefacts
from chromatile.errors import NotFound, UserError
from chromatile.store import DataDir

# A directory mtime younger than this may hide a later change within the same timestamp tick.
RACY_NS = 2_000_000_000
# Seconds one catalog listing may spend walking stores for their size on disk (see disk_facts).
FACTS_BUDGET_S = 0.5


class Cache(Protocol):
    """The two methods of a flask-caching/cachelib cache that the catalog uses."""

    def get(self, key: str) -> Any: ...

    def set(self, key: str, value: Any, timeout: int | None = None) -> Any: ...


class Catalog:
    """Image ids and metadata of one DATA_DIR."""

    def __init__(self, data: DataDir, cache: Cache, *, rescan_interval_ms: int = 1000) -> None:
        self.data = data
        self.cache = cache
        self.rescan_interval_ns = rescan_interval_ms * 1_000_000
        self._lock = threading.Lock()
        self._ids: list[str] = []
        self._mtime: int | None = None
        self._scanned_at = 0
        # (store path, metadata version) -> bytes on disk; in-process so it never evicts metadata
        self._sizes: dict[tuple[str, str], int] = {}
        self.ids()

    def ids(self) -> list[str]:
        """Ids of the stores present now (withdrawn ones included; callers filter)."""
        now = time.time_ns()
        mtime = self.data.mtime_ns()
        with self._lock:
            stale = (mtime != self._mtime or now - mtime < RACY_NS
                     or now - self._scanned_at >= self.rescan_interval_ns)
            if stale:
                self._ids = self.data.discover()
                self._mtime = mtime
                self._scanned_at = now
            return list(self._ids)

    def metadata(self, image_id: str) -> dict[str, Any]:
        """Parsed summary of one store (no state checks: callers do those first)."""
        store_real = self.data.resolve_store(image_id)
        try:
            version = self.data.metadata_version(store_real)
        except FileNotFoundError:
            raise NotFound(f"no image {image_id!r}") from None
        key = f"chromatile:meta:{self.data.real}:{image_id}:{version}"
        summary: dict[str, Any] | None = self.cache.get(key)
        if summary is None:
            summary = self.data.read_summary(image_id, store_real)
            self.cache.set(key, summary)
        return summary

    def visible(self, *, include_private: bool) -> list[tuple[str, dict[str, Any], bool]]:
        """(id, summary, private) of every servable image: withdrawn never, private only when allowed,
        unreadable metadata never. What the catalog lists and `/api/health` counts."""
        withdrawn = self.data.markers.withdrawn_ids()
        private_names = self.data.markers.private_ids()
        found = []
        for image_id in self.ids():
            try:
                # an alias carries its target's state too (store.datadir)
                names = self.data.find(image_id).names
                is_private = any(n in private_names for n in names)
                if any(n in withdrawn for n in names) or (is_private and not include_private):
                    continue
                found.append((image_id, self.metadata(image_id), is_private))
            except UserError:
                continue  # vanished or unreadable since discovery: not listable
        return found

    def listing(self, *, include_private: bool) -> list[dict[str, Any]]:
        """Short entries of every image :meth:`visible` gives."""
        entries = []
        deadline = time.monotonic() + FACTS_BUDGET_S
        for image_id, summary, is_private in self.visible(include_private=include_private):
            entries.append({
                "id": image_id,
                "name": summary["name"],
                "shape": summary["shape"],
                "dtype": summary["dtype"],
                "levels": len(summary["levels"]),
                "channels": [c["label"] for c in summary["channels"]],
                "private": is_private,
                **self.disk_facts(image_id, summary, deadline),
            })
        return entries

    def disk_facts(self, image_id: str, summary: dict[str, Any], deadline: float) -> dict[str, Any]:
        """`size_bytes` and `ingested` of one store. The size is a walk of every chunk file, remembered
        per metadata version; walks start only before `deadline` (time.monotonic()), so a listing of
        many large stores answers in bounded time with `size_bytes: null` for the ones not walked yet."""
        try:
            store_real = self.data.resolve_store(image_id)
            ingested = storefacts.ingested_at(store_real, summary["levels"][0]["path"])
            key = (store_real, self.data.metadata_version(store_real))
            size = self._sizes.get(key)
            if size is None and time.monotonic() < deadline:
                size = self._sizes[key] = storefacts.disk_bytes(store_real)
        except (OSError, UserError):
            return {"size_bytes": None, "ingested": None}  # vanished since it was listed
        return {"size_bytes": size, "ingested": ingested}
