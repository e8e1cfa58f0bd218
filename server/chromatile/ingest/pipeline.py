"""Tasks on a thread pool without a barrier after every band, yet with bounded memory.

The main thread reads and downsamples; encoding, writing and counting run on the pool. Tasks are
grouped in batches (one per band read from the source); only the newest ``depth`` batches may be
unfinished, so at most that many bands are held alive by queued work.
"""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any


class Pipeline:
    """Submit tasks into the current batch; ``next_batch()`` waits for batches older than ``depth``."""

    def __init__(self, pool: Executor, depth: int = 2) -> None:
        self.pool = pool
        self.depth = depth
        self.batches: deque[list[tuple[Future[Any], Callable[[Any], None] | None]]] = deque([[]])

    def submit(self, fn: Callable[..., Any], *args: Any, then: Callable[[Any], None] | None = None) -> None:
        """Run ``fn(*args)`` on the pool; ``then(result)`` runs later in the calling thread."""
        self.batches[-1].append((self.pool.submit(fn, *args), then))

    def next_batch(self) -> None:
        """Close the current batch and wait until at most ``depth`` batches are unfinished."""
        self.batches.append([])
        while len(self.batches) > self.depth:
            self._wait(self.batches.popleft())

    def wait_all(self) -> None:
        """Wait for every task (re-raising the first failure)."""
        while self.batches:
            self._wait(self.batches.popleft())
        self.batches.append([])

    def cancel(self) -> None:
        """Drop tasks not yet started and wait for the running ones (used on failure)."""
        for batch in self.batches:
            for future, _ in batch:
                future.cancel()
        for batch in self.batches:
            for future, _ in batch:
                if not future.cancelled():
                    with contextlib.suppress(BaseException):
                        future.result()
        self.batches = deque([[]])

    @staticmethod
    def _wait(batch: list[tuple[Future[Any], Callable[[Any], None] | None]]) -> None:
        for future, then in batch:
            result = future.result()
            if then is not None:
                then(result)
