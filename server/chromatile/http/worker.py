"""The app of one `chromatile serve` worker process, built from the `CHROMATILE_*` environment."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

from chromatile.http.app import create_app
from chromatile.http.drain import CloseWhileDraining, DrainFlag
from chromatile.http.slowclients import BufferedBodies

# Set by `chromatile serve` for its workers (not settings: they describe the server process itself).
THREADS_ENV = "_CHROMATILE_SERVE_THREADS"
DRAIN_FLAG_ENV = "_CHROMATILE_SERVE_DRAIN_FLAG"
# Bodies up to this size are handed to granian whole, so no thread waits on a slow client: every tile
# (at most 0.5 MiB; fastpath reads chunks up to 4 MiB whole anyway), the viewer's bundle (1.4 MiB).
BUFFER_MAX = 4 * 1024 * 1024


def build_app() -> Flask:
    """Granian's factory target: each worker process builds its own app from the environment.

    Under `chromatile serve` (its variables set) the app is wrapped for granian: bodies handed over
    whole, `Connection: close` while draining. Any other server gets the plain app.
    """
    app = create_app(None)
    threads = os.environ.get(THREADS_ENV)
    flag_path = os.environ.get(DRAIN_FLAG_ENV)
    if threads is None or flag_path is None:
        return app
    settings = app.extensions["chromatile"].settings
    cors = [("Access-Control-Allow-Origin", "*")] if "*" in settings.origins else []
    # one thread per process always stays free of big streams (threads=1: one stream at a time)
    buffered = BufferedBodies(app.wsgi_app, BUFFER_MAX, max(1, int(threads) - 1), settings.retry_after, cors)
    app.wsgi_app = CloseWhileDraining(buffered, DrainFlag(Path(flag_path)))  # type: ignore[method-assign]
    return app
