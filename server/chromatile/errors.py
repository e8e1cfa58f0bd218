"""Exception types shared by the CLI, the store and the HTTP layer.

The HTTP layer maps each type to one status code in one table; the CLI turns :class:`UserError`
(and its subclasses) into a one-line message and exit code 2.
"""

from __future__ import annotations


class UserError(Exception):
    """Something the user asked for cannot be done; the message says what and why."""


class BadRequest(UserError):
    """A request or an input is malformed (HTTP 400)."""


class Forbidden(UserError):
    """The caller may not see this (HTTP 403 / 401)."""


class NotFound(UserError):
    """No such image, file or chunk (HTTP 404)."""


class Withdrawn(UserError):
    """The image was withdrawn and must not be served (HTTP 410)."""


class Unavailable(UserError):
    """The server itself cannot answer now (DATA_DIR gone, state unreadable): HTTP 503, retry later."""


class InsufficientStorage(UserError):
    """A write failed for lack of space (HTTP 507); nothing was changed."""
