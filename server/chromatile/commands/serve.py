"""`chromatile serve DATA_DIR`: every store in DATA_DIR over HTTP, with gunicorn (threads per process)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from chromatile.config import Settings
from chromatile.errors import UserError
from chromatile.store import DataDir

THREADS = 8


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `serve` parser."""
    p = subparsers.add_parser(
        "serve", help="serve every store in DATA_DIR (tiles, catalog, viewer) with gunicorn",
        description="Serve every <id>.ome.zarr store in DATA_DIR. Other settings come from CHROMATILE_* "
                    "environment variables (see docs/server.md).")
    p.add_argument("data_dir", metavar="DATA_DIR", type=Path, help="folder holding <id>.ome.zarr stores")
    add_server_options(p)
    p.set_defaults(func=run)


def add_server_options(p: argparse.ArgumentParser, port: int = 8000) -> None:
    """Options shared by `serve` and `demo`."""
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=port, help=f"port (default {port})")
    p.add_argument("--workers", type=int, default=None,
                   help="worker processes (default: one per CPU core, at most 8)")
    p.add_argument("--threads", type=int, default=THREADS, help=f"threads per worker (default {THREADS})")
    p.add_argument("--no-access-log", action="store_true", help="do not log every request")
    p.add_argument("--max-concurrency", type=int, default=None,
                   help="requests one worker handles at once before answering 503 (default 64)")


def default_workers() -> int:
    """One process per core: file sends are cheap, the GIL is the limit, not I/O."""
    return max(1, min(8, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else
                      (os.cpu_count() or 1)))


def run(args: argparse.Namespace) -> int:
    """Validate the settings here (one-line errors), then hand over to gunicorn until a signal."""
    overrides: dict[str, Any] = {"data_dir": args.data_dir}
    if args.max_concurrency is not None:
        overrides["max_concurrency"] = args.max_concurrency
    settings = Settings.from_env(**overrides)
    serve(settings, host=args.host, port=args.port, workers=args.workers or default_workers(),
          threads=args.threads, access_log=not args.no_access_log)
    return 0


def serve(settings: Settings, *, host: str, port: int, workers: int, threads: int,
          access_log: bool = True, on_ready: str | None = None) -> None:
    """Run gunicorn in this process (the master) until SIGTERM/SIGINT; workers build their own app."""
    from gunicorn.app.base import BaseApplication

    DataDir(settings.data_dir)  # fail here, with one line, rather than in every worker
    if workers < 1 or threads < 1:
        raise UserError("--workers and --threads must be at least 1")
    if not 0 <= port <= 65535:
        raise UserError(f"--port {port} is not a port number")

    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": threads,
        # a burst waits in the kernel's accept queue rather than being refused
        "backlog": 2048,
        "worker_connections": 1000,
        "keepalive": 5,
        "timeout": 30,
        "graceful_timeout": 10,
        "accesslog": "-" if access_log else None,
        "errorlog": "-",
        "loglevel": "info",
        "proc_name": "chromatile",
        # gunicorn >= 25 opens a control socket at one fixed path per user: two servers would fight
        # over it, and nothing of ours uses it
        "control_socket_disable": True,
    }
    ready_message = on_ready

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in options.items():
                if key in self.cfg.settings:  # older gunicorns lack some settings
                    self.cfg.set(key, value)
            if ready_message:
                self.cfg.set("when_ready", lambda _arbiter: print(ready_message, flush=True))

        def load(self) -> Any:
            from chromatile.http.app import create_app

            return create_app(settings)

    Server().run()
