"""Draining before a stop: the server's main process raises a flag, every worker then closes connections.

When `chromatile serve` gets SIGTERM it keeps serving for a short drain period before granian stops
its workers. During that period every answer carries `Connection: close`, so a keep-alive client
(a browser, a proxy's upstream pool) learns with the answer to the request it just sent that this
connection is going away, and opens its next request elsewhere instead of sending it into a closing
socket. The flag is one byte of a file mapped by the main process and by each worker: reading it
costs a memory access per request, and it works whether workers are forked or spawned.
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class DrainFlag:
    """One shared byte: 0 while serving, 1 once the server drains."""

    def __init__(self, path: Path) -> None:
        self.path = path
        fd = os.open(path, os.O_RDWR)
        try:
            self._map = mmap.mmap(fd, 1)
        finally:
            os.close(fd)

    @classmethod
    def create(cls, path: Path) -> DrainFlag:
        """A new flag file at `path`, not set."""
        path.write_bytes(b"\0")
        return cls(path)

    def set(self) -> None:
        """Start draining (seen by every process that mapped the file)."""
        self._map[0] = 1

    def is_set(self) -> bool:
        """Whether the server drains."""
        return self._map[0] == 1


class CloseWhileDraining:
    """WSGI middleware: once `flag` is set, every answer says `Connection: close`."""

    def __init__(self, app: WSGIApp, flag: DrainFlag) -> None:
        self.app = app
        self.flag = flag

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not self.flag.is_set():
            return self.app(environ, start_response)

        def closing(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            headers = [(k, v) for k, v in headers if k.lower() != "connection"]
            return start_response(status, [*headers, ("Connection", "close")], exc_info)

        return self.app(environ, closing)
