"""The CDN purge hook: after an image is withdrawn or made private, tell downstream caches to drop it.

One policy for the CLI and the admin API: the hook (`purge_command`, CHROMATILE_PURGE_COMMAND) runs
after `withdraw` and `private` when they changed something, never after `restore`/`public`. It is a
command line run without a shell, `{id}` replaced by the image id, e.g.
`curl -fsS -X POST https://cdn.example/purge?prefix=/data/{id}.ome.zarr/`, stopped after 30 s.

The CLI waits for it and fails when it fails; the admin API starts it in the background and answers at
once (a request must not hold a worker thread for 30 s), logging the outcome.
"""

from __future__ import annotations

import logging
import shlex
import subprocess
import threading

TIMEOUT_S = 30
PURGING_ACTIONS = ("withdraw", "private")
log = logging.getLogger("chromatile.purge")


def wanted(action: str, changed: bool, command: str | None) -> bool:
    """Whether the hook runs after `action` (withdraw, restore, private, public)."""
    return bool(command) and changed and action in PURGING_ACTIONS


def run(command: str, image_id: str) -> str:
    """Run the hook once and wait; returns "ok" or a one-line reason it failed (never raises)."""
    argv = [part.replace("{id}", image_id) for part in shlex.split(command)]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"failed: {exc}"
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or [""])[-1]
        return f"failed: exit {done.returncode} {last}".strip()
    return "ok"


def start(command: str, image_id: str) -> threading.Thread:
    """Run the hook in a background thread; its outcome goes to the log. Returns the thread."""
    def work() -> None:
        outcome = run(command, image_id)
        if outcome == "ok":
            log.info("purge hook for %s: ok", image_id)
        else:
            log.error("purge hook for %s %s", image_id, outcome)

    thread = threading.Thread(target=work, name=f"purge-{image_id}", daemon=True)
    thread.start()
    return thread
