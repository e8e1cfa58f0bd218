"""The response policy, as plain functions: CORS, cache and validator headers of every answer.

Used alike by the chunk fast path (WSGI, before Flask), the routes and the 503 guard, so the same
request gets the same headers whichever of them answers it.
"""

from __future__ import annotations

import json
import os

from werkzeug.http import http_date

IMMUTABLE = "max-age=31536000, immutable"
# Response headers a viewer on another origin may read (CORS).
EXPOSED = "ETag, Last-Modified, Content-Length, Content-Range, Accept-Ranges, Retry-After"
PREFLIGHT = (
    ("Access-Control-Allow-Methods", "GET, HEAD, PUT, POST, OPTIONS"),
    ("Access-Control-Allow-Headers", "Authorization, Range, Content-Type, If-None-Match, "
                                     "If-Modified-Since, If-Range, If-Match, If-Unmodified-Since"),
    ("Access-Control-Max-Age", "86400"),
)


def cors_headers(origins: tuple[str, ...] | frozenset[str], origin: str | None,
                 method: str = "GET") -> list[tuple[str, str]]:
    """CORS headers of an answer to a request from `origin` (errors too, so viewers can show them).

    With specific origins configured the answer varies on `Origin` (a cache must not hand one site's
    answer to another); `Vary` is returned as a separate header the caller merges.
    """
    headers: list[tuple[str, str]] = []
    if "*" in origins:
        headers.append(("Access-Control-Allow-Origin", "*"))
    else:
        if origin is not None and origin in origins:
            headers.append(("Access-Control-Allow-Origin", origin))
        headers.append(("Vary", "Origin"))
    headers.append(("Access-Control-Expose-Headers", EXPOSED))
    if method == "OPTIONS":
        headers.extend(PREFLIGHT)
    return headers


def chunk_cache_control(private: bool, shared_max_age: int | None) -> str:
    """Chunks never change: browsers and CDNs keep them a year; `s-maxage` bounds shared caches."""
    if private:
        return f"private, {IMMUTABLE}"
    shared = f", s-maxage={shared_max_age}" if shared_max_age is not None else ""
    return f"public, {IMMUTABLE}{shared}"


def metadata_cache_control(private: bool, max_age: int) -> str:
    """Metadata can change (defaults saved, image withdrawn): revalidate, or keep `max_age` s."""
    if private:
        return "private, no-cache"
    return "no-cache" if max_age == 0 else f"public, max-age={max_age}"


def etag_of(st: os.stat_result) -> str:
    """A strong validator (quoted) that changes whenever the file is replaced or rewritten."""
    return f'"{st.st_ino:x}-{st.st_size:x}-{st.st_mtime_ns:x}"'


def validator_headers(st: os.stat_result) -> list[tuple[str, str]]:
    """ETag and Last-Modified of a file."""
    return [("ETag", etag_of(st)), ("Last-Modified", http_date(int(st.st_mtime)))]


def error_body(message: str) -> bytes:
    """The JSON error body `{"error": message}`, byte for byte as Flask's `jsonify` writes it."""
    return (json.dumps({"error": message}, separators=(",", ":")) + "\n").encode()
