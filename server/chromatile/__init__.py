"""chromatile: raw per-channel tiles of very large microscopy images, composited in the browser."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

    from chromatile.config import Settings

__version__ = "0.1.0"

__all__ = ["__version__", "create_app"]


def create_app(config: Settings | Mapping[str, Any] | None = None) -> Flask:
    """Build the Flask app; see :func:`chromatile.http.app.create_app`."""
    from chromatile.http.app import create_app as _create_app

    return _create_app(config)
