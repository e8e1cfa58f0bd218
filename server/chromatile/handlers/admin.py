"""Admin handlers: save a viewer's channel settings as defaults; withdraw, restore, private, public."""

from __future__ import annotations

import json
from typing import Any

from chromatile import access, defaults, purge
from chromatile.errors import BadRequest
from chromatile.handlers.images import with_urls
from chromatile.handlers.services import Services
from chromatile.store import check_id

ACTIONS = ("withdraw", "restore", "private", "public")


def check_admin(svc: Services, authorization: str | None) -> None:
    """401/403 unless the request carries the admin token."""
    access.check_admin(authorization, svc.settings.admin_token)


def save_defaults(svc: Services, image_id: str, body: Any, base: str) -> dict[str, Any]:
    """Validate `body` (parsed JSON, None if it was not JSON) and write it into the store's metadata."""
    check_id(image_id)
    store = svc.data.find(image_id)
    svc.data.check_not_withdrawn(*store.names)
    summary = svc.catalog.metadata(image_id)
    if body is None:
        raise BadRequest("the body must be JSON")
    settings = defaults.validate(body, len(summary["channels"]), summary["dtype"])
    groups = defaults.validate_groups(body, len(summary["channels"]), summary["dtype"])
    shader = defaults.validate_shader(body)
    svc.data.update_attrs(image_id, lambda doc: defaults.apply_shader(
        defaults.apply_groups(defaults.apply(doc, store.real, settings), groups), shader))
    return with_urls(svc.catalog.metadata(image_id), svc.data.state(*store.names).private, base)


def change_state(svc: Services, action: str, image_id: str, body: Any) -> dict[str, Any]:
    """Apply one admin action; starts the purge hook in the background when the policy wants it."""
    check_id(image_id)
    data = svc.data
    if action == "withdraw":
        reason = body.get("reason", "") if isinstance(body, dict) else ""
        data.withdraw(image_id, str(reason)[:500])
        changed = True
    elif action == "restore":
        changed = data.restore(image_id)
    elif action in ("private", "public"):
        changed = data.set_private(image_id, action == "private")
    else:
        raise BadRequest(f"unknown action {action!r}")
    result: dict[str, Any] = {"id": image_id, "action": action, "changed": changed,
                              **vars(data.state(image_id))}
    command = svc.settings.purge_command
    if command and purge.wanted(action, changed, command):
        purge.start(command, image_id)
        result["purge"] = "started"
    return result


def parse_body(raw: bytes) -> Any:
    """A request body parsed as JSON; None when it is empty or not JSON, BadRequest when too deep."""
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except RecursionError:
        raise BadRequest("the JSON body is nested too deeply") from None
    except ValueError:
        return None
