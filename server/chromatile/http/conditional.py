"""Conditional and range requests on a file, as RFC 9110 section 13.2.2 orders them; no Flask.

One function decides the status of a GET/HEAD of a file from its validators and the request's
`If-*` and `Range` headers; the fast path and the routes both use it.

- `If-Match` (strong comparison) failing, or else `If-Unmodified-Since` older than the file: 412.
- `If-None-Match` matching (weak comparison), or else `If-Modified-Since` not older: 304.
- `Range` is honoured only on GET, only when `If-Range` (if sent) still matches (a strong ETag, or
  the exact Last-Modified date), and only for one range: a malformed or multi-range header is ignored
  (200 with the whole body; we do not send multipart). A range that starts past the end: 416.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from werkzeug.http import parse_date

RANGE_RE = re.compile(r"bytes=(?:(\d{1,19})-(\d{0,19})|-(\d{1,19}))\Z")


@dataclass(frozen=True)
class Outcome:
    """What to answer: a status and, for 206, the inclusive byte range."""

    status: int
    start: int = 0
    end: int = -1  # inclusive; -1 with status 200: the whole file

    def content_range(self, size: int) -> str | None:
        """The Content-Range header of a 206 or 416 answer."""
        if self.status == 206:
            return f"bytes {self.start}-{self.end}/{size}"
        if self.status == 416:
            return f"bytes */{size}"
        return None


FULL = Outcome(200)


def evaluate(method: str, headers: dict[str, str | None], etag: str, mtime: int, size: int) -> Outcome:
    """The outcome of a GET/HEAD of a file with strong `etag` (quoted), `mtime` (s) and `size`.

    `headers` maps lower-case header names (`if-match`, `if-none-match`, `if-modified-since`,
    `if-unmodified-since`, `range`, `if-range`) to their values or None.
    """
    if_match = headers.get("if-match")
    if if_match is not None:
        if not _match(if_match, etag, weak=False):
            return Outcome(412)
    else:
        since = _date(headers.get("if-unmodified-since"))
        if since is not None and mtime > since:
            return Outcome(412)
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None:
        if _match(if_none_match, etag, weak=True):
            return Outcome(304)
    else:
        since = _date(headers.get("if-modified-since"))
        if since is not None and mtime <= since:
            return Outcome(304)
    raw = headers.get("range")
    if raw is None or method != "GET":
        return FULL
    if_range = headers.get("if-range")
    if if_range is not None and not _if_range_holds(if_range.strip(), etag, mtime):
        return FULL
    return byte_range(raw, size)


def byte_range(raw: str, size: int) -> Outcome:
    """A single `bytes=` range against `size`: 206, 416 when unsatisfiable, 200 when not one range."""
    m = RANGE_RE.match(raw.strip().replace(" ", ""))
    if m is None:
        return FULL  # malformed or several ranges: ignored, as RFC 9110 allows
    first, last, suffix = m.groups()
    if suffix is not None:
        n = int(suffix)
        if n == 0 or size == 0:
            return Outcome(416)
        return Outcome(206, max(0, size - n), size - 1)
    start = int(first)
    if last and int(last) < start:
        return FULL  # an invalid range-spec: the header is ignored
    if start >= size:
        return Outcome(416)
    end = min(int(last), size - 1) if last else size - 1
    return Outcome(206, start, end)


def _match(header: str, etag: str, *, weak: bool) -> bool:
    """Whether `header` (an entity-tag list or `*`) matches our strong `etag`."""
    if header.strip() == "*":
        return True
    for listed in header.split(","):
        tag = listed.strip()
        if tag.startswith("W/"):
            if not weak:
                continue
            tag = tag[2:]
        if tag == etag:
            return True
    return False


def _if_range_holds(value: str, etag: str, mtime: int) -> bool:
    """If-Range: a strong ETag equal to ours, or a date equal to our Last-Modified."""
    if value.startswith('"'):
        return value == etag
    if value.startswith("W/"):
        return False
    when = _date(value)
    return when is not None and when == mtime


def _date(value: str | None) -> int | None:
    """An HTTP date as unix seconds, None if absent or invalid (an invalid one is ignored)."""
    if not value:
        return None
    try:
        parsed = parse_date(value)
    except (ValueError, OverflowError):
        return None
    return int(parsed.timestamp()) if parsed is not None else None
