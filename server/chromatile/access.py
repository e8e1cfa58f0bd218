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
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from chromatile.errors import Forbidden
from chromatile.store.markers import ImageState

TOKEN_VERSION = "v1"
# ASCII only: `str.isdigit` also accepts "²" and Arabic-Indic digits, which int() then refuses or
# reads as another number. No leading zero (one token, one spelling), at most 12 digits.
TOKEN_RE = re.compile(r"v1\.([1-9][0-9]{0,11})\.([A-Za-z0-9_-]{43})\Z")


class Unauthorized(Forbidden):
    """No credentials were sent where some are needed (HTTP 401)."""


@dataclass(frozen=True)
class Credentials:
    """What a request carries that may let it read a private image."""

    authorization: str | None = None  # the Authorization header
    url_token: str | None = None  # `?token=`
    cookie_token: str | None = None  # the `chromatile-token-<id>` cookie a signed link left


@dataclass(frozen=True)
class Grant:
    """Why a request may read an image: whether the image is private, and whether a cookie (not the
    URL or a header) carried the credential, so the answer must say `Vary: Cookie`."""

    private: bool
    via_cookie: bool = False


PUBLIC = Grant(private=False)


def decide(image_id: str, state: ImageState, credentials: Credentials, readers: tuple[str, ...],
           secret: Callable[[], bytes | None]) -> Grant:
    """The one access decision for an image that is not withdrawn (callers answer 410 before).

    Public: granted. Private: a reader bearer token, else a valid signed `?token=`, else the cookie a
    signed link left; Unauthorized with none, Forbidden with a wrong one. `secret` is called only when
    a signed token must be checked (it reads a file).
    """
    if not state.private:
        return PUBLIC
    token = bearer_token(credentials.authorization)
    if token is not None:
        if token_matches(token, readers):
            return Grant(private=True)
        raise Forbidden(f"the bearer token may not read private image {image_id!r}")
    if credentials.url_token:
        verify(secret(), image_id, credentials.url_token)
        return Grant(private=True)
    if credentials.cookie_token:
        verify(secret(), image_id, credentials.cookie_token)
        return Grant(private=True, via_cookie=True)
    raise Unauthorized(f"image {image_id!r} is private: send 'Authorization: Bearer <token>' "
                       "or a signed '?token=' (chromatile sign)")


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
    m = TOKEN_RE.match(token)
    return int(m.group(1)) if m else 0


def verify(secret: bytes | None, image_id: str, token: str, now: float | None = None) -> None:
    """Raise Forbidden unless `token` is a valid, unexpired signature for `image_id`."""
    if secret is None:
        raise Forbidden("signed tokens are not accepted: no signing secret is configured")
    m = TOKEN_RE.match(token)
    if m is None:
        raise Forbidden("the URL token is malformed")
    expires_at = int(m.group(1))
    if not hmac.compare_digest(m.group(2).encode(), _mac(secret, image_id, expires_at).encode()):
        raise Forbidden(f"the URL token is not valid for image {image_id!r}")
    if (time.time() if now is None else now) >= expires_at:
        raise Forbidden("the URL token has expired")


def _mac(secret: bytes, image_id: str, expires_at: int) -> str:
    digest = hmac.new(secret, f"{image_id}\n{expires_at}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
