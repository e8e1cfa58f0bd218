"""The careful path of `GET /data/<id>.ome.zarr/<path>`: every check, then which file to send and how."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass

from chromatile.access import Credentials, Grant
from chromatile.errors import NotFound
from chromatile.handlers.authorize import authorize
from chromatile.handlers.services import Services
from chromatile.http import policy
from chromatile.store import CHUNK_RE, STORE_SUFFIX
from chromatile.store.metadata import is_metadata_file


@dataclass(frozen=True)
class FileAnswer:
    """A store file to send (`real`), or None for an absent chunk inside the grid (404, no body)."""

    real: str | None
    cache_control: str
    grant: Grant


def store_file(svc: Services, store_name: str, path: str, credentials: Credentials) -> FileAnswer:
    """Check access and path; the file and its cache policy (chunks immutable, metadata revalidated)."""
    if not store_name.endswith(STORE_SUFFIX):
        raise NotFound(f"{store_name[:80]!r} is not a store name (<id>{STORE_SUFFIX})")
    image_id = store_name[: -len(STORE_SUFFIX)]
    store, grant = authorize(svc, image_id, credentials)
    real = svc.data.resolve_file(store, path)
    settings = svc.settings
    chunk = CHUNK_RE.match(path) is not None and not is_metadata_file(path)
    cache_control = (policy.chunk_cache_control(grant.private, settings.shared_max_age) if chunk
                     else policy.metadata_cache_control(grant.private, settings.metadata_max_age))
    try:
        st = os.stat(real)
    except OSError:
        svc.data.check_chunk(store, path)  # raises unless an absent chunk inside the grid
        return FileAnswer(None, cache_control, grant)
    if not stat.S_ISREG(st.st_mode):
        raise NotFound(f"{path[:80]!r} is not a file of store {image_id!r}")
    return FileAnswer(real, cache_control, grant)
