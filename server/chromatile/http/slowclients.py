"""No Python thread waits on a slow client: bodies are handed to the server whole, big streams are bounded.

Granian runs a WSGI app on a few blocking threads per worker and hands a streamed body to its Rust
side one part at a time from that same thread: a thread sending to a client that never reads waits
as long as the client does, and a few dozen such clients held every thread of every worker, so
nobody else got an answer. With this middleware a body up to `limit` bytes (every tile, the viewer's
bundle, metadata) is read whole and given to the server as one part, which granian's Rust side
writes out asynchronously however slowly the client reads; and only `streams` threads per process
may stream a bigger body at once, so a thread always stays free for everyone else.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class BufferedBodies:
    """WSGI middleware: bodies up to `limit` bytes become one part; bigger ones take a streaming slot.

    `streams` threads at most (per process) may stream a body over `limit` at once; a request that
    would need one more answers 503 with `Retry-After` instead of taking the last free thread.
    """

    def __init__(self, app: WSGIApp, limit: int, streams: int, retry_after: int,
                 headers: list[tuple[str, str]] | None = None) -> None:
        self.app = app
        self.limit = limit
        self.streams = threading.BoundedSemaphore(streams)
        self.stream_count = streams
        self.retry_after = retry_after
        self.extra_headers = headers or []

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        captured: list[Any] = []

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[..., Any]:
            captured[:] = [status, headers, exc_info]
            return lambda data: None  # the legacy write() callable; our app never calls it

        body = self.app(environ, capture)
        if isinstance(body, list):
            start_response(*captured)
            return body
        length = _content_length(captured[1]) if captured else None
        if length is not None and length > self.limit:
            return self._stream(body, captured, start_response)
        parts, size = [], 0
        iterator = iter(body)
        try:
            for part in iterator:
                parts.append(part)
                size += len(part)
                if size > self.limit:  # no or wrong Content-Length: stream what is left
                    return self._stream(_chain(parts, iterator, body), captured, start_response)
        except BaseException:
            _close(body)
            raise
        _close(body)
        start_response(*captured)
        return [b"".join(parts)]

    def _stream(self, body: Iterable[bytes], captured: list[Any],
                start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not self.streams.acquire(blocking=False):
            _close(body)
            message = json.dumps({"error": f"server busy ({self.stream_count} large responses are being "
                                           f"sent by this process): retry after {self.retry_after} s"}).encode()
            start_response("503 Service Unavailable", [
                ("Content-Type", "application/json"), ("Content-Length", str(len(message))),
                ("Retry-After", str(self.retry_after)), ("Cache-Control", "no-store"), *self.extra_headers])
            return [message]
        start_response(*captured)
        return _Released(body, self.streams)


class _Released:
    """A streamed body that gives its slot back when the server closes it (sent, or client gone)."""

    def __init__(self, body: Iterable[bytes], slot: threading.BoundedSemaphore) -> None:
        self.body = body
        self.slot: threading.BoundedSemaphore | None = slot

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.body)

    def close(self) -> None:
        try:
            _close(self.body)
        finally:
            if self.slot is not None:
                self.slot.release()
                self.slot = None


def _chain(parts: list[bytes], rest: Iterator[bytes], body: Iterable[bytes]) -> Iterable[bytes]:
    class Chained:
        def __iter__(self) -> Iterator[bytes]:
            yield from parts
            yield from rest

        def close(self) -> None:
            _close(body)

    return Chained()


def _content_length(headers: list[tuple[str, str]]) -> int | None:
    for name, value in headers:
        if name.lower() == "content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _close(body: Iterable[bytes]) -> None:
    close = getattr(body, "close", None)
    if close is not None:
        close()
