"""The app of one `chromatile serve` worker process, built from the `CHROMATILE_*` environment."""

from __future__ import annotations

from flask import Flask

from chromatile.http.app import create_app


def build_app() -> Flask:
    """Granian's factory target: each worker process builds its own app from the environment."""
    return create_app(None)
