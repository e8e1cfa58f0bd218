"""A bounded concurrency guard: beyond N requests in flight, wait briefly, then shed with 503.

It wraps the WSGI app so it covers every request, including errors. One semaphore per process: the
server's own queue (listen backlog, worker threads) absorbs bursts, the guard makes sure nothing waits
forever when the queue inside one process grows (e.g. a threaded server with unbounded threads).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from chromatile.http import policy

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class ConcurrencyGuard:
    """WSGI middleware: at most `limit` requests inside `app` at once in this process."""

    def __init__(self, app: WSGIApp, limit: int, timeout: float, retry_after: int,
                 origins: tuple[str, ...] | frozenset[str] = ("*",)) -> None:
        self.app = app
        self.limit = limit
        self.timeout = timeout
        self.retry_after = retry_after
        self.origins = frozenset(origins)
        self.slots = threading.BoundedSemaphore(limit)
        self.shed = 0

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not self.slots.acquire(timeout=self.timeout):
            self.shed += 1
            body = policy.error_body(f"server busy ({self.limit} requests in progress in this "
                                     f"process): retry after {self.retry_after} s")
            start_response("503 Service Unavailable", [
                ("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                ("Retry-After", str(self.retry_after)), ("Cache-Control", "no-store"),
                *policy.cors_headers(self.origins, environ.get("HTTP_ORIGIN"),
                                     environ.get("REQUEST_METHOD", "GET")),
            ])
            return [body]
        try:
            # a streamed body is sent by the server after this returns; the slot covers the app's
            # work (checks, opening, a small chunk's one read), which is what can pile up
            return self.app(environ, start_response)
        finally:
            self.slots.release()
