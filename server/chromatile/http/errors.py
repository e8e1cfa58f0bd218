"""One table from chromatile's exception types to HTTP status codes; every error is JSON."""

from __future__ import annotations

import logging

from flask import Blueprint, Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

from chromatile.access import Unauthorized
from chromatile.errors import (
    BadRequest,
    Forbidden,
    InsufficientStorage,
    NotFound,
    Unavailable,
    UserError,
    Withdrawn,
)

log = logging.getLogger("chromatile.http")

# First match wins: subclasses before their bases.
STATUS: tuple[tuple[type[UserError], int], ...] = (
    (Unauthorized, 401),
    (Unavailable, 503),
    (InsufficientStorage, 507),
    (Withdrawn, 410),
    (NotFound, 404),
    (Forbidden, 403),
    (BadRequest, 400),
    (UserError, 400),
)


def error_response(status: int, message: str) -> Response:
    """`{"error": message}` with `status`; 401 says how to authenticate."""
    response = jsonify(error=message)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="chromatile"'
    if status == 503:
        response.headers["Retry-After"] = "1"
    return response


def status_of(exc: UserError) -> int:
    """HTTP status of a chromatile exception."""
    return next(code for kind, code in STATUS if isinstance(exc, kind))


def _user_error(exc: UserError) -> Response:
    return error_response(status_of(exc), str(exc))


def _http_error(exc: HTTPException) -> Response:
    response = error_response(exc.code or 500, exc.description or exc.name)
    for name in ("Allow", "Content-Range", "Retry-After"):
        # keep the headers the exception carries (405 Allow, 416 Content-Range)
        value = exc.get_response().headers.get(name)
        if value:
            response.headers[name] = value
    return response


def _unexpected(exc: Exception) -> Response:
    log.exception("unexpected error (a bug: every bad request should be a 4xx)")
    return error_response(500, f"internal error: {type(exc).__name__}")


def register_errors(target: Flask | Blueprint) -> None:
    """Install the table on an app (all routes) or a blueprint (its routes only)."""
    target.register_error_handler(UserError, _user_error)
    target.register_error_handler(HTTPException, _http_error)
    target.register_error_handler(Exception, _unexpected)
