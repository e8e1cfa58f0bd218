"""Sending files: validators and cache headers from :mod:`policy`, 304/412/206/416 from :mod:`conditional`."""

from __future__ import annotations

import mimetypes
import os
from collections.abc import Iterator
from typing import IO

from flask import Response, request
from werkzeug.wsgi import wrap_file

from chromatile.http import conditional, policy
from chromatile.http.errors import error_response
from chromatile.store.metadata import METADATA_NAMES

BLOCK = 64 * 1024
CONDITIONAL_HEADERS = ("if-match", "if-none-match", "if-modified-since", "if-unmodified-since",
                       "range", "if-range")


def request_conditions(environ: dict[str, object]) -> dict[str, str | None]:
    """The request's conditional and range headers, by lower-case name (WSGI environ in)."""
    out: dict[str, str | None] = {}
    for name in CONDITIONAL_HEADERS:
        value = environ.get("HTTP_" + name.upper().replace("-", "_"))
        out[name] = value if isinstance(value, str) else None
    return out


def send_path(path: str, cache_control: str, mimetype: str | None = None) -> Response:
    """The file's bytes unchanged, answering the validators and a single Range itself."""
    f = open(path, "rb")  # noqa: SIM115 - closed by the WSGI server through the response
    try:
        st = os.fstat(f.fileno())
        if mimetype is None:
            mimetype = guess_type(path)
        headers = [*policy.validator_headers(st), ("Cache-Control", cache_control),
                   ("Accept-Ranges", "bytes")]
        outcome = conditional.evaluate(
            request.method, request_conditions(request.environ), policy.etag_of(st),
            int(st.st_mtime), st.st_size)
        if outcome.status in (304, 412, 416):
            f.close()
            if outcome.status == 304:
                return Response(status=304, headers=headers)
            message = ("the file does not satisfy the request's preconditions" if outcome.status == 412
                       else f"the requested range is outside the file ({st.st_size} bytes)")
            response = error_response(outcome.status, message)
            for name, value in headers:
                if name in ("ETag", "Last-Modified", "Accept-Ranges"):
                    response.headers[name] = value
            content_range = outcome.content_range(st.st_size)
            if content_range:
                response.headers["Content-Range"] = content_range
            return response
        if outcome.status == 206:
            length = outcome.end - outcome.start + 1
            body: object = _slice(f, outcome.start, length)
            headers.append(("Content-Range", outcome.content_range(st.st_size) or ""))
        else:
            length = st.st_size
            body = wrap_file(request.environ, f)
        response = Response(body, status=outcome.status,  # type: ignore[arg-type]
                            mimetype=mimetype, headers=headers, direct_passthrough=True)
        response.content_length = length
        if request.method == "HEAD":
            f.close()
            response.response = []
        return response
    except BaseException:
        f.close()
        raise


def _slice(f: IO[bytes], start: int, length: int) -> Iterator[bytes]:
    """`length` bytes of `f` from `start`, in blocks; closes `f` at the end."""
    try:
        f.seek(start)
        while length > 0:
            block = f.read(min(BLOCK, length))
            if not block:
                break
            length -= len(block)
            yield block
    finally:
        f.close()


def accel_redirect(location: str, cache_control: str, mimetype: str) -> Response:
    """Hand the send to nginx (`X-Accel-Redirect` to an internal location) after our checks."""
    response = Response(b"", mimetype=mimetype)
    response.headers["X-Accel-Redirect"] = location
    response.headers["Cache-Control"] = cache_control
    return response


def guess_type(path: str) -> str:
    """Content type by name; Zarr's metadata files are JSON, chunks are bytes."""
    name = os.path.basename(path)
    if name in METADATA_NAMES:
        return "application/json"
    if "." not in name:
        return "application/octet-stream"
    if name.endswith((".js", ".mjs")):
        return "text/javascript"
    return mimetypes.guess_type(name)[0] or "application/octet-stream"
