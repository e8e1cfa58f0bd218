"""The chunk hot path: `GET /data/<id>.ome.zarr/<chunk>` of a public image answered before Flask.

A viewer scrolling through Z fires hundreds of these, and for a sharded (Zarr v3) store every tile is
a Range request into a shard file. Each is "check the id, check the two state markers, open the file,
send it (or the range)". Flask's routing, request object and after-request hooks cost more than all of
that, so this WSGI middleware answers the common case itself, with the same headers (:mod:`policy`)
and the same conditional/range rules (:mod:`conditional`) as the routes, and hands everything unusual
to the app (the careful path):

- anything but GET/HEAD, a query string (`?token=`), an `Authorization` header;
- a withdrawn or private image (the app answers 410/401 with the reason);
- a file that is missing (absent chunk or out of grid), not plain, or reached through a symlink or an
  alias (:meth:`DataDir.open_chunk` says None).

The state markers are stat-ed on every request, exactly like the careful path, so withdrawal takes
effect on the next request in every process. Method names are case-sensitive (RFC 9110): a `get` is
answered 405 here, before Flask (which would upper-case it).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from werkzeug.wsgi import FileWrapper

from chromatile.config import Settings
from chromatile.errors import UserError
from chromatile.http import conditional, policy
from chromatile.http.files import request_conditions
from chromatile.store import CHUNK_PATTERN, ID_PATTERN, STORE_SUFFIX, DataDir

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

PATH_RE = re.compile(rf"/data/({ID_PATTERN}){re.escape(STORE_SUFFIX)}/({CHUNK_PATTERN})\Z")
BLOCK = 64 * 1024
# Chunks up to this size are read whole (ours are at most ~0.5 MiB: 512 x 512 uint16, compressed).
WHOLE_READ_MAX = 4 * 1024 * 1024
STATUS_LINE = {200: "200 OK", 206: "206 Partial Content", 304: "304 Not Modified",
               412: "412 Precondition Failed", 416: "416 Range Not Satisfiable"}
ALLOWED = "GET, HEAD, PUT, POST, OPTIONS"
CONDITIONAL = ("HTTP_RANGE", "HTTP_IF_NONE_MATCH", "HTTP_IF_MATCH", "HTTP_IF_MODIFIED_SINCE",
               "HTTP_IF_UNMODIFIED_SINCE", "HTTP_IF_RANGE")


class ChunkFastPath:
    """WSGI middleware serving public chunk files directly; everything else goes to `app`."""

    def __init__(self, app: WSGIApp, settings: Settings, data: DataDir) -> None:
        self.app = app
        self.data = data
        self.cache_control = policy.chunk_cache_control(False, settings.shared_max_age)
        self.origins = frozenset(settings.origins)
        # with "*" the CORS headers do not depend on the request: computed once
        self.any_origin_cors = policy.cors_headers(self.origins, None) if "*" in self.origins else None
        self.worker = str(os.getpid()) if settings.debug_headers else None
        # nginx sends the file in X-Accel-Redirect deployments: keep that in one place (the app)
        self.enabled = settings.x_accel_prefix is None
        self.hits = 0

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "")
        if method != method.upper():
            return self._not_allowed(environ, start_response, method)
        answer = self._try(environ, start_response, method) if self.enabled else None
        # `is None`, not truthiness: a 304 or HEAD answer is an empty (falsy) list
        return self.app(environ, start_response) if answer is None else answer

    def _try(self, environ: dict[str, Any], start_response: Callable[..., Any],
             method: str) -> Iterable[bytes] | None:
        if method != "GET" and method != "HEAD":
            return None
        m = PATH_RE.match(environ.get("PATH_INFO", ""))
        if m is None or environ.get("QUERY_STRING") or "HTTP_AUTHORIZATION" in environ:
            return None
        image_id, path = m.groups()
        if ".." in image_id:
            return None
        try:
            state = self.data.state(image_id)
        except UserError:
            return None  # the careful path answers with the reason
        if state.withdrawn or state.private:
            return None
        opened = self.data.open_chunk(image_id, path)
        if opened is None:
            return None
        fd, st = opened
        etag = policy.etag_of(st)
        headers = [("Cache-Control", self.cache_control), *policy.validator_headers(st),
                   ("Accept-Ranges", "bytes")]
        headers += self.any_origin_cors or policy.cors_headers(self.origins, environ.get("HTTP_ORIGIN"))
        if self.worker:
            headers.append(("X-Chromatile-Worker", self.worker))
        self.hits += 1
        if any(h in environ for h in CONDITIONAL):
            outcome = conditional.evaluate(method, request_conditions(environ), etag, int(st.st_mtime),
                                           st.st_size)
        else:
            outcome = conditional.FULL  # the common case: a plain GET
        if outcome.status == 304:
            os.close(fd)
            # no Last-Modified, like werkzeug's 304 (it strips entity headers) on the careful path
            start_response(STATUS_LINE[304], [h for h in headers if h[0] != "Last-Modified"])
            return []
        if outcome.status in (412, 416):
            os.close(fd)
            message = ("the file does not satisfy the request's preconditions" if outcome.status == 412
                       else f"the requested range is outside the file ({st.st_size} bytes)")
            body = policy.error_body(message)
            extra = [("Content-Range", outcome.content_range(st.st_size) or "")] \
                if outcome.status == 416 else []
            start_response(STATUS_LINE[outcome.status], [
                *[(k, v) for k, v in headers if k != "Cache-Control"], ("Cache-Control", "no-store"),
                *extra, ("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body] if method == "GET" else []
        if outcome.status == 206:
            start, length = outcome.start, outcome.end - outcome.start + 1
            headers.append(("Content-Range", outcome.content_range(st.st_size) or ""))
        else:
            start, length = 0, st.st_size
        headers += [("Content-Type", "application/octet-stream"), ("Content-Length", str(length))]
        start_response(STATUS_LINE[outcome.status], headers)
        if method == "HEAD":
            os.close(fd)
            return []
        wrapper = environ.get("wsgi.file_wrapper")
        if length <= WHOLE_READ_MAX and (wrapper is None or start):
            # no sendfile offered (granian), or a range: one pread into one body part is cheaper
            # than a block iterator crossing into the server every 64 KiB; big ones still stream
            try:
                return [_read_at(fd, start, length)]
            finally:
                os.close(fd)
        if start == 0 and length == st.st_size:
            # the file wrapper (gunicorn's: os.sendfile) closes the file when the send ends
            return (wrapper or FileWrapper)(os.fdopen(fd, "rb"), BLOCK)
        return _stream(fd, start, length)

    def _not_allowed(self, environ: dict[str, Any], start_response: Callable[..., Any],
                     method: str) -> Iterable[bytes]:
        body = policy.error_body(f"method {method[:20]!r} is not allowed: method names are "
                                 f"case-sensitive ({ALLOWED})")
        start_response("405 Method Not Allowed", [
            ("Content-Type", "application/json"), ("Content-Length", str(len(body))),
            ("Allow", ALLOWED), ("Cache-Control", "no-store"),
            *policy.cors_headers(self.origins, environ.get("HTTP_ORIGIN"))])
        return [body]


def _read_at(fd: int, start: int, size: int) -> bytes:
    """`size` bytes of the file from `start` (fewer only if it shrank: then what is there)."""
    data = os.pread(fd, size, start)
    while len(data) < size:
        more = os.pread(fd, size - len(data), start + len(data))
        if not more:
            break
        data += more
    return data


def _stream(fd: int, start: int, length: int) -> Iterator[bytes]:
    """A large range, block by block; closes `fd` at the end."""
    try:
        while length > 0:
            block = os.pread(fd, min(BLOCK, length), start)
            if not block:
                break
            start += len(block)
            length -= len(block)
            yield block
    finally:
        os.close(fd)
