"""`chromatile serve DATA_DIR`: every store in DATA_DIR over HTTP, with granian (worker processes)."""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

from chromatile.config import ENV_PREFIX, Settings, settings_env
from chromatile.errors import UserError
from chromatile.http.drain import DrainFlag
from chromatile.http.worker import DRAIN_FLAG_ENV, THREADS_ENV
from chromatile.store import DataDir

THREADS = 4
# On SIGTERM/SIGINT: serve on for DRAIN_SECONDS answering `Connection: close`, then stop accepting and
# give requests in flight up to KILL_TIMEOUT s; together under the 10 s a container runtime waits.
DRAIN_SECONDS = 1.0
KILL_TIMEOUT = 8


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `serve` parser."""
    p = subparsers.add_parser(
        "serve", help="serve every store in DATA_DIR (tiles, catalog, viewer) with granian",
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
    """Serve DATA_DIR until a signal."""
    serve_with_options(args, args.data_dir)
    return 0


def serve_with_options(args: argparse.Namespace, data_dir: Path, on_ready: str | None = None) -> None:
    """Settings from the environment and the :func:`add_server_options` flags, then :func:`serve`."""
    # max_concurrency None: not given, the environment or the default applies (from_env drops Nones)
    settings = Settings.from_env(data_dir=data_dir, max_concurrency=args.max_concurrency)
    serve(settings, host=args.host, port=args.port, workers=args.workers or default_workers(),
          threads=args.threads, access_log=not args.no_access_log, on_ready=on_ready)


def serve(settings: Settings, *, host: str, port: int, workers: int, threads: int,
          access_log: bool = True, on_ready: str | None = None) -> None:
    """Run granian in this process (the main one) until SIGTERM/SIGINT; workers build their own app.

    Granian parses HTTP and manages connections in Rust, so a chunk request costs Python only the
    app's own work: bench/serve measured 2x the requests/s of gunicorn's gthread worker.
    """
    from granian.constants import HTTPModes, Interfaces

    DataDir(settings.data_dir)  # fail here, with one line, rather than in every worker
    if workers < 1 or threads < 1:
        raise UserError("--workers and --threads must be at least 1")
    if not 0 <= port <= 65535:
        raise UserError(f"--port {port} is not a port number")
    # workers are new interpreters: they read the settings back from the environment
    for name in [k for k in os.environ if k.startswith(ENV_PREFIX)]:
        del os.environ[name]
    os.environ.update(settings_env(settings))
    os.environ[THREADS_ENV] = str(threads)

    with tempfile.TemporaryDirectory(prefix="chromatile-serve-") as tmp:
        flag = DrainFlag.create(Path(tmp) / "draining")
        os.environ[DRAIN_FLAG_ENV] = str(flag.path)
        server = draining_granian_class()(
            "chromatile.http.worker:build_app", factory=True, interface=Interfaces.WSGI,
            address=host, port=port, workers=workers, blocking_threads=threads,
            http=HTTPModes.http1, websockets=False,
            # a burst waits in the kernel's accept queue rather than being refused
            backlog=2048,
            log_access=access_log,
            # a worker that dies (OOM kill, native crash) is replaced; one that dies again within
            # 5.5 s of its respawn stops the whole server (exit 1) for the supervisor to restart
            respawn_failed_workers=True,
            # after the drain: stop accepting, let requests in flight finish, kill what is left
            workers_kill_timeout=KILL_TIMEOUT,
        )
        server.drain_flag = flag
        if on_ready:
            server.on_startup(lambda: print(on_ready, flush=True))
        server.serve()


def draining_granian_class() -> type[Any]:
    """Granian whose first SIGTERM/SIGINT raises the drain flag and stops DRAIN_SECONDS later.

    Without the drain, granian closed idle keep-alive connections at once, and a request a client
    sent on one a few milliseconds after the signal was lost; now each connection that sends a
    request during the drain gets its answer, with `Connection: close`. A second signal stops at once.
    """
    from granian import Granian

    class DrainingGranian(Granian):  # type: ignore[misc, valid-type]
        drain_flag: DrainFlag

        def signal_handler_interrupt(self, *args: Any, **kwargs: Any) -> None:
            stop = super().signal_handler_interrupt
            if self.drain_flag.is_set():
                stop()
                return
            self.drain_flag.set()
            timer = threading.Timer(DRAIN_SECONDS, stop)
            timer.daemon = True
            timer.start()

    return DrainingGranian
