"""Sending files: strong ETag from inode/size/mtime, Last-Modified, 304s and ranges via werkzeug."""

from __future__ import annotations

import mimetypes
import os
from datetime import UTC, datetime

from flask import Response, request
from werkzeug.wsgi import wrap_file

IMMUTABLE = "max-age=31536000, immutable"
# Response headers a viewer on another origin may read (CORS).
EXPOSED = "ETag, Last-Modified, Content-Length, Content-Range, Accept-Ranges, Retry-After"
JSON_TYPES = {".zattrs": "application/json", ".zgroup": "application/json",
              ".zarray": "application/json", ".zmetadata": "application/json"}


def chunk_cache_control(private: bool, shared_max_age: int | None) -> str:
    """Chunks never change: browsers and CDNs keep them a year; `s-maxage` bounds shared caches."""
    if private:
        return f"private, {IMMUTABLE}"
    shared = f", s-maxage={shared_max_age}" if shared_max_age is not None else ""
    return f"public, {IMMUTABLE}{shared}"


def etag_of(st: os.stat_result) -> str:
    """A strong validator that changes whenever the file is replaced or rewritten."""
    return f"{st.st_ino:x}-{st.st_size:x}-{st.st_mtime_ns:x}"


def send_path(path: str, cache_control: str, mimetype: str | None = None) -> Response:
    """The file's bytes unchanged, answering If-None-Match/If-Modified-Since/Range itself."""
    f = open(path, "rb")  # noqa: SIM115 - closed by the WSGI server through the response
    try:
        st = os.fstat(f.fileno())
        if mimetype is None:
            mimetype = guess_type(path)
        response = Response(wrap_file(request.environ, f), mimetype=mimetype, direct_passthrough=True)
        response.content_length = st.st_size
        response.last_modified = datetime.fromtimestamp(int(st.st_mtime), UTC)
        response.set_etag(etag_of(st))
        response.headers["Cache-Control"] = cache_control
        response.make_conditional(request.environ, accept_ranges=True, complete_length=st.st_size)
        return response
    except BaseException:
        f.close()
        raise


def accel_redirect(location: str, cache_control: str, mimetype: str) -> Response:
    """Hand the send to nginx (`X-Accel-Redirect` to an internal location) after our checks."""
    response = Response(b"", mimetype=mimetype)
    response.headers["X-Accel-Redirect"] = location
    response.headers["Cache-Control"] = cache_control
    return response


def guess_type(path: str) -> str:
    """Content type by name; Zarr's metadata files are JSON, chunks are bytes."""
    name = os.path.basename(path)
    if name in JSON_TYPES:
        return JSON_TYPES[name]
    if "." not in name:
        return "application/octet-stream"
    if name.endswith((".js", ".mjs")):
        return "text/javascript"
    return mimetypes.guess_type(name)[0] or "application/octet-stream"
