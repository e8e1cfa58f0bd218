"""A plain static file host with HTTP Range support and CORS, as a CDN or object store serves Zarr.

Logs every request (method, path, Range header) so tests can assert how the viewer read a store.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


@dataclass
class Logged:
    method: str
    path: str
    range: str | None
    status: int = 0


@dataclass
class RangeHost:
    url: str
    root: Path
    log: list[Logged] = field(default_factory=list)

    def requests_under(self, prefix: str) -> list[Logged]:
        """Logged requests whose path starts with `prefix` (e.g. '/store.zarr/0/')."""
        return [r for r in self.log if r.path.split("?")[0].startswith(prefix)]


class RangeHandler(SimpleHTTPRequestHandler):
    """GET/HEAD of files, single byte ranges (`bytes=a-b`, `bytes=a-`, `bytes=-n`) answered 206."""

    host: RangeHost

    def end_headers(self) -> None:
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Access-Control-Expose-Headers", "Content-Range, Content-Length")
        self.send_header("Accept-Ranges", "bytes")
        super().end_headers()

    def do_OPTIONS(self) -> None:
        # A suffix range (bytes=-n) is not a CORS-safelisted header: the browser asks first.
        self._log(204)
        self.send_response(204)
        self.send_header("Access-Control-Allow-Methods", "GET, HEAD")
        self.send_header("Access-Control-Allow-Headers", "Range")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _log(self, status: int) -> None:
        self.host.log.append(Logged(self.command, self.path, self.headers.get("Range"), status))

    def do_GET(self) -> None:
        spec = self.headers.get("Range")
        path = self.translate_path(self.path)
        if not spec or not os.path.isfile(path):
            self._log(200 if os.path.exists(path) else 404)
            super().do_GET()
            return
        m = RANGE.match(spec.strip())
        size = os.path.getsize(path)
        if not m or (not m.group(1) and not m.group(2)):
            self._log(416)
            self.send_error(416)
            return
        if m.group(1):
            start = int(m.group(1))
            end = min(size - 1, int(m.group(2))) if m.group(2) else size - 1
        else:
            start, end = max(0, size - int(m.group(2))), size - 1
        if start > end or start >= size:
            self._log(416)
            self.send_response(416)
            self.send_header("Content-Range", f"bytes */{size}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self._log(206)
        with open(path, "rb") as f:
            f.seek(start)
            body = f.read(end - start + 1)
        self.send_response(206)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def range_host(root: Path) -> Iterator[RangeHost]:
    """Serve `root` on a loopback port until the block ends."""
    host = RangeHost("", root)
    handler = type("Handler", (RangeHandler,), {"host": host})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(root)))
    host.url = f"http://127.0.0.1:{httpd.server_port}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield host
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()
