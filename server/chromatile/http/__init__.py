"""The HTTP layer: the only part of chromatile that imports Flask. Routes parse, check, call, shape."""

from __future__ import annotations

from chromatile.http.app import create_app, init_app

__all__ = ["create_app", "init_app"]
