"""The chunk hot path: plain `GET /data/<id>.ome.zarr/<chunk>` answered before Flask is entered.

A viewer scrolling through Z fires hundreds of these; each is "check the id, check the two state
markers, open the file, send it". Flask's routing, request object and after-request hooks cost more
than all of that, so this WSGI middleware answers the common case itself, with the same headers, and
hands everything unusual to the app (the careful path):

- anything but GET/HEAD, a query string (`?token=`), `Range`/`If-Modified-Since`/`If-Range`/`If-Match`
  headers, an `Authorization` header;
- a withdrawn or private image (the app answers 410/401 with the reason);
- a file that is missing (absent chunk or out of grid), not plain, or reached through a symlink
  (:meth:`DataDir.open_chunk` says None).

The state markers are stat-ed on every request, exactly like the careful path, so withdrawal takes
effect on the next request in every process.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.http import http_date
from werkzeug.wsgi import FileWrapper

from chromatile.config import Settings
from chromatile.http import files
from chromatile.store import ID_RE, STORE_SUFFIX, DataDir

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

PATH_RE = re.compile(r"/data/([A-Za-z0-9][A-Za-z0-9._-]{0,127})" + re.escape(STORE_SUFFIX)
                     + r"/(\d{1,9}(?:/\d{1,9}){5})\Z")
# Request headers that need the careful path (werkzeug's conditional/range logic, or credentials).
CAREFUL = ("HTTP_RANGE", "HTTP_IF_MODIFIED_SINCE", "HTTP_IF_RANGE", "HTTP_IF_MATCH",
           "HTTP_IF_UNMODIFIED_SINCE", "HTTP_AUTHORIZATION")
BLOCK = 64 * 1024
# Chunks up to this size are read whole (ours are at most ~0.5 MiB: 512 x 512 uint16, compressed).
WHOLE_READ_MAX = 4 * 1024 * 1024


class ChunkFastPath:
    """WSGI middleware serving public chunk files directly; everything else goes to `app`."""

    def __init__(self, app: WSGIApp, settings: Settings, data: DataDir, cache_control: str) -> None:
        self.app = app
        self.data = data
        self.cache_control = cache_control
        self.any_origin = "*" in settings.origins
        self.origins = frozenset(settings.origins)
        self.worker = str(os.getpid()) if settings.debug_headers else None
        # nginx sends the file in X-Accel-Redirect deployments: keep that in one place (the app)
        self.enabled = settings.x_accel_prefix is None
        self.hits = 0

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        answer = self._try(environ, start_response) if self.enabled else None
        # `is None`, not truthiness: a 304 or HEAD answer is an empty (falsy) list
        return self.app(environ, start_response) if answer is None else answer

    def _try(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes] | None:
        method = environ["REQUEST_METHOD"]
        if method != "GET" and method != "HEAD":
            return None
        m = PATH_RE.match(environ.get("PATH_INFO", ""))
        if m is None or environ.get("QUERY_STRING") or any(h in environ for h in CAREFUL):
            return None
        image_id, path = m.groups()
        if ".." in image_id or not ID_RE.match(image_id):
            return None
        state = self.data.state(image_id)
        if state.withdrawn or state.private:
            return None
        opened = self.data.open_chunk(image_id, path)
        if opened is None:
            return None
        fd, st = opened
        etag = f'"{files.etag_of(st)}"'
        headers = [("Cache-Control", self.cache_control), ("ETag", etag), ("Accept-Ranges", "bytes")]
        self._cors(environ, headers)
        if self.worker:
            headers.append(("X-Chromatile-Worker", self.worker))
        self.hits += 1
        if _matches(environ.get("HTTP_IF_NONE_MATCH"), etag):
            os.close(fd)
            start_response("304 Not Modified", headers)  # no Last-Modified, like werkzeug's 304
            return []
        headers += [("Last-Modified", http_date(int(st.st_mtime))),
                    ("Content-Type", "application/octet-stream"), ("Content-Length", str(st.st_size))]
        start_response("200 OK", headers)
        if method == "HEAD":
            os.close(fd)
            return []
        wrapper = environ.get("wsgi.file_wrapper")
        if wrapper is None and st.st_size <= WHOLE_READ_MAX:
            # no sendfile offered (granian): one read syscall into one body part is cheaper than a
            # block iterator crossing into the server every 64 KiB; big foreign chunks still stream
            try:
                return [_read_whole(fd, st.st_size)]
            finally:
                os.close(fd)
        # the file wrapper (gunicorn's: os.sendfile) closes the file when the send ends
        return (wrapper or FileWrapper)(os.fdopen(fd, "rb"), BLOCK)

    def _cors(self, environ: dict[str, Any], headers: list[tuple[str, str]]) -> None:
        if self.any_origin:
            headers.append(("Access-Control-Allow-Origin", "*"))
        else:
            origin = environ.get("HTTP_ORIGIN")
            if origin in self.origins:
                headers.append(("Access-Control-Allow-Origin", origin))
            headers.append(("Vary", "Origin"))
        headers.append(("Access-Control-Expose-Headers", files.EXPOSED))


def _read_whole(fd: int, size: int) -> bytes:
    """The file's `size` bytes (a short read only if it shrank: then what is there)."""
    data = os.read(fd, size)
    while len(data) < size:
        more = os.read(fd, size - len(data))
        if not more:
            break
        data += more
    return data


def _matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 weak comparison for If-None-Match: `*` or any listed tag equal to ours."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    return any(tag.strip().removeprefix("W/") == etag for tag in if_none_match.split(","))
