"""The CDN purge hook: after an image is withdrawn or made private, tell downstream caches to drop it.

`purge_command` (CHROMATILE_PURGE_COMMAND) is a command line run without a shell, `{id}` replaced by the
image id, e.g. `curl -fsS -X POST https://cdn.example/purge?prefix=/data/{id}.ome.zarr/`.
"""

from __future__ import annotations

import shlex
import subprocess

TIMEOUT_S = 30


def run(command: str, image_id: str) -> str:
    """Run the hook once; returns "ok" or a one-line reason it failed (never raises)."""
    argv = [part.replace("{id}", image_id) for part in shlex.split(command)]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"failed: {exc}"
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or [""])[-1]
        return f"failed: exit {done.returncode} {last}".strip()
    return "ok"
