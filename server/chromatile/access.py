"""Who may read what: bearer tokens and HMAC-signed, expiring URL tokens for private images.

A signed token covers every URL of one image until it expires:

    token = "v1." + <expiry, unix seconds> + "." + base64url(HMAC-SHA256(secret, "<id>\\n<expiry>"))

It is passed as `?token=...`; `chromatile sign DATA_DIR ID --expires 3600` prints one. Opening
`/view/<id>?token=...` also stores it in a cookie (`chromatile-token-<id>`), so the viewer's own
same-origin requests for that image's metadata and tiles are let in without carrying it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

from chromatile.errors import Forbidden

TOKEN_VERSION = "v1"


class Unauthorized(Forbidden):
    """No credentials were sent where some are needed (HTTP 401)."""


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def token_matches(token: str, allowed: tuple[str, ...]) -> bool:
    """Constant-time membership test of a bearer token."""
    found = False
    for candidate in allowed:
        # no early exit, so timing does not tell which token matched
        found |= hmac.compare_digest(token.encode(), candidate.encode())
    return found


def check_admin(authorization: str | None, admin_token: str | None) -> None:
    """Raise unless the header carries the admin token (401 without one, 403 with a wrong one)."""
    if not admin_token:
        raise Forbidden("admin endpoints are disabled: set CHROMATILE_ADMIN_TOKEN to enable them")
    token = bearer_token(authorization)
    if token is None:
        raise Unauthorized("this endpoint needs 'Authorization: Bearer <admin token>'")
    if not token_matches(token, (admin_token,)):
        raise Forbidden("the admin token is wrong")


def sign(secret: bytes, image_id: str, expires_at: int) -> str:
    """A URL token that lets its holder read `image_id` until unix time `expires_at`."""
    return f"{TOKEN_VERSION}.{int(expires_at)}.{_mac(secret, image_id, int(expires_at))}"


def cookie_name(image_id: str) -> str:
    """Cookie that keeps a signed token of `image_id` after a `/view/<id>?token=` link was opened."""
    return f"chromatile-token-{image_id}"


def expiry(token: str) -> int:
    """Expiry (unix seconds) of a well-formed token (call after :func:`verify`)."""
    return int(token.split(".")[1])


def verify(secret: bytes | None, image_id: str, token: str, now: float | None = None) -> None:
    """Raise Forbidden unless `token` is a valid, unexpired signature for `image_id`."""
    if secret is None:
        raise Forbidden("signed tokens are not accepted: no signing secret is configured")
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != TOKEN_VERSION or not parts[1].isdigit():
        raise Forbidden("the URL token is malformed")
    expires_at = int(parts[1])
    if not hmac.compare_digest(parts[2], _mac(secret, image_id, expires_at)):
        raise Forbidden(f"the URL token is not valid for image {image_id!r}")
    if (time.time() if now is None else now) >= expires_at:
        raise Forbidden("the URL token has expired")


def may_read_private(image_id: str, authorization: str | None, url_token: str | None,
                     readers: tuple[str, ...], secret: bytes | None) -> None:
    """Raise Unauthorized/Forbidden unless the request may read the private image `image_id`."""
    token = bearer_token(authorization)
    if token is not None:
        if token_matches(token, readers):
            return
        raise Forbidden(f"the bearer token may not read private image {image_id!r}")
    if url_token:
        verify(secret, image_id, url_token)
        return
    raise Unauthorized(f"image {image_id!r} is private: send 'Authorization: Bearer <token>' "
                       "or a signed '?token=' (chromatile sign)")


def _mac(secret: bytes, image_id: str, expires_at: int) -> str:
    digest = hmac.new(secret, f"{image_id}\n{expires_at}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
