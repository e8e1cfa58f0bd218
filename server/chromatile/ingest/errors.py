"""The one error type ingest raises for anything the user can fix."""

from __future__ import annotations

from chromatile.errors import BadRequest


class IngestError(BadRequest):
    """A source cannot be ingested (bad file, unsupported layout or dtype, bad id or destination)."""


def one_line(exc: BaseException) -> str:
    """A library exception squeezed onto one line, so CLI errors stay one line."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."
