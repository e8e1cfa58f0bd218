"""chromatile: raw per-channel tiles of very large microscopy images, composited in the browser."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__", "create_app"]


def create_app(config=None):  # noqa: ANN001, ANN201 - re-exported, typed at the source
    """Build the Flask app; see :func:`chromatile.http.app.create_app`."""
    from chromatile.http.app import create_app as _create_app

    return _create_app(config)
