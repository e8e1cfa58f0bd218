"""The access decision of one request for one image, made once from one read of its state."""

from __future__ import annotations

from chromatile import access
from chromatile.access import Credentials, Grant
from chromatile.errors import NotFound
from chromatile.handlers.services import Services
from chromatile.store import StoreRef, check_id


def authorize(svc: Services, image_id: str, credentials: Credentials) -> tuple[StoreRef, Grant]:
    """The store of `image_id` and why the request may read it.

    410 if the image (or, for an alias, its target) is withdrawn, even when its store is gone;
    404/403 if there is no such store; 401/403 if it is private and the credentials do not let the
    request in. The state markers are read once, here.
    """
    check_id(image_id)
    try:
        store = svc.data.find(image_id)
    except NotFound:
        if svc.data.state(image_id).withdrawn:
            raise svc.data.withdrawn_error(image_id) from None
        raise
    state = svc.data.state(*store.names)
    if state.withdrawn:
        raise svc.data.withdrawn_error(*store.names)
    return store, access.decide(image_id, state, credentials, svc.readers, svc.secret)
