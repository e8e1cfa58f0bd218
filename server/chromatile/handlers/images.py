"""The JSON API's handlers: health, catalog, one image's metadata, its thumbnail."""

from __future__ import annotations

from typing import Any

from chromatile import access
from chromatile.access import Credentials, Grant
from chromatile.errors import Forbidden
from chromatile.handlers.authorize import authorize
from chromatile.handlers.services import Services
from chromatile.store import STORE_SUFFIX, thumbnail_file


def health(svc: Services) -> dict[str, Any]:
    """Liveness plus the number of images an anonymous caller can see (hidden ones not counted)."""
    return {"status": "ok", "images": len(svc.catalog.visible(include_private=False))}


def catalog(svc: Services, authorization: str | None, base: str) -> dict[str, Any]:
    """Every listable image; private ones too for a reader bearer token (403 for a wrong one)."""
    token = access.bearer_token(authorization)
    include_private = False
    if token is not None:
        if not access.token_matches(token, svc.readers):
            raise Forbidden("the bearer token is not valid")
        include_private = True
    entries = svc.catalog.listing(include_private=include_private)
    return {"images": [with_urls(e, e["private"], base) for e in entries]}


def metadata(svc: Services, image_id: str, credentials: Credentials,
             base: str) -> tuple[dict[str, Any], Grant]:
    """One image's summary with its URLs, and the grant (private answers are cached privately)."""
    _, grant = authorize(svc, image_id, credentials)
    return with_urls(svc.catalog.metadata(image_id), grant.private, base), grant


def thumbnail(svc: Services, image_id: str, credentials: Credentials) -> tuple[str, Grant]:
    """Path of the thumbnail file and the grant."""
    store, grant = authorize(svc, image_id, credentials)
    summary = svc.catalog.metadata(image_id)
    return thumbnail_file(store.real, summary), grant


def with_urls(summary: dict[str, Any], private: bool, base: str) -> dict[str, Any]:
    """A summary or catalog entry with `private` and the URLs of the image's resources."""
    image_id = summary["id"]
    return {
        **summary,
        "private": private,
        "url": f"{base}/api/images/{image_id}",
        "store_url": f"{base}/data/{image_id}{STORE_SUFFIX}",
        "thumbnail_url": f"{base}/api/images/{image_id}/thumbnail.png",
        "viewer_url": f"{base}/view/{image_id}",
    }
