""""Save as default": validate a viewer's channel settings and write them into a store's metadata.

Body: `{"channels": [{"color": "#rrggbb", "window": [lo, hi], "visible": true, "gamma": 1.0,
"invert": false, "colormap": "color"}, ...], "groups": [...]}`, one entry per channel, every field
optional; `groups` (optional) replaces the store's channel groups (see validate_groups); `shader` (optional,
with `definitions`) replaces the store's compositing shader and the user colormaps and blends it and the
channels use (see validate_shader).
Mapping (docs/store-format.md): color -> omero.channels[i].color (RRGGBB), window -> window.start/end,
visible -> active, invert -> inverted, gamma/colormap -> chromatile.rendering[i]; `omero` is at the top of
`.zattrs` (0.4) or under `attributes.ome` of `zarr.json` (0.5), written through chromatile.storemeta.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import re
from typing import Any

from chromatile import storemeta
from chromatile.errors import BadRequest

COLOR_RE = re.compile(r"#?([0-9A-Fa-f]{6})\Z")
COLORMAP_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}\Z")
FIELDS = ("color", "window", "visible", "gamma", "invert", "colormap")
# A channel group's entry: the channel index and its settings (its visibility is being in the group).
GROUP_FIELDS = ("color", "window", "gamma", "invert", "colormap")
MAX_GROUPS = 64
GROUP_NAME_MAX = 64


def validate(body: Any, channel_count: int, dtype: str) -> list[dict[str, Any]]:
    """Checked, normalised settings per channel; BadRequest naming the first problem."""
    if not isinstance(body, dict) or "channels" not in body or set(body) - {"channels", "groups", "shader", "definitions"}:
        raise BadRequest('the body must be a JSON object {"channels": [...]}')
    channels = body["channels"]
    if not isinstance(channels, list) or len(channels) != channel_count:
        raise BadRequest(f"'channels' must be a list of {channel_count} entries (one per channel)")
    top = storemeta.dtype_max(dtype)
    result = []
    for i, entry in enumerate(channels):
        result.append(_check_entry(entry, f"channels[{i}]", top, FIELDS))
    return result


def _check_entry(entry: Any, where: str, top: float, allowed: tuple[str, ...]) -> dict[str, Any]:
    """One channel's settings checked and normalised; BadRequest naming `where` and the field."""
    if not isinstance(entry, dict):
        raise BadRequest(f"{where} must be an object")
    unknown = sorted(set(entry) - set(allowed))
    if unknown:
        raise BadRequest(f"{where} has unknown field(s) {', '.join(unknown)}; allowed: {', '.join(allowed)}")
    out: dict[str, Any] = {}
    if "color" in entry:
        m = COLOR_RE.match(entry["color"]) if isinstance(entry["color"], str) else None
        if not m:
            raise BadRequest(f"{where}.color must be '#rrggbb'")
        out["color"] = m.group(1).upper()
    if "window" in entry:
        w = entry["window"]
        if (not isinstance(w, list) or len(w) != 2 or not all(_number(v) for v in w)
                or not 0 <= w[0] < w[1] <= top):
            raise BadRequest(f"{where}.window must be [lo, hi] with 0 <= lo < hi <= {top}")
        out["window"] = [_plain(w[0]), _plain(w[1])]
    for name in ("visible", "invert"):
        if name in entry:
            if not isinstance(entry[name], bool):
                raise BadRequest(f"{where}.{name} must be true or false")
            out[name] = entry[name]
    if "gamma" in entry:
        g = entry["gamma"]
        if not _number(g) or not 0.01 <= g <= 100:
            raise BadRequest(f"{where}.gamma must be a number in [0.01, 100]")
        out["gamma"] = float(g)
    if "colormap" in entry:
        c = entry["colormap"]
        if not isinstance(c, str) or not COLORMAP_RE.match(c):
            raise BadRequest(f"{where}.colormap must be a colormap name like 'color' or 'viridis'")
        out["colormap"] = c
    return out


def validate_groups(body: dict[str, Any], channel_count: int, dtype: str) -> list[dict[str, Any]] | None:
    """The body's channel groups, checked (None when it has no `groups`).

    `groups`: `[{"name": "immune", "channels": [{"index": 3, "color": ..., "window": ..., "gamma": ...,
    "invert": ..., "colormap": ...}, ...]}, ...]`: named sets of visible channels with their settings,
    stored as `chromatile.groups` (docs/store-format.md). Colours are kept as the viewer sends them.
    """
    if "groups" not in body:
        return None
    groups = body["groups"]
    if not isinstance(groups, list) or len(groups) > MAX_GROUPS:
        raise BadRequest(f"'groups' must be a list of at most {MAX_GROUPS} groups")
    top = storemeta.dtype_max(dtype)
    result: list[dict[str, Any]] = []
    for i, group in enumerate(groups):
        where = f"groups[{i}]"
        if not isinstance(group, dict) or set(group) != {"name", "channels"}:
            raise BadRequest(f'{where} must be an object {{"name": ..., "channels": [...]}}')
        name = group["name"]
        if not isinstance(name, str) or not name.strip() or len(name) > GROUP_NAME_MAX:
            raise BadRequest(f"{where}.name must be a non-empty name of at most {GROUP_NAME_MAX} characters")
        if any(g["name"] == name for g in result):
            raise BadRequest(f"{where}.name {name!r} is used by an earlier group")
        entries = group["channels"]
        if not isinstance(entries, list):
            raise BadRequest(f"{where}.channels must be a list")
        channels: list[dict[str, Any]] = []
        for j, entry in enumerate(entries):
            at = f"{where}.channels[{j}]"
            index = entry.get("index") if isinstance(entry, dict) else None
            if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < channel_count:
                raise BadRequest(f"{at}.index must be a channel index in [0, {channel_count - 1}]")
            if any(c["index"] == index for c in channels):
                raise BadRequest(f"{at}.index {index} is listed twice")
            settings = _check_entry({k: v for k, v in entry.items() if k != "index"}, at, top, GROUP_FIELDS)
            if "color" in settings:
                settings["color"] = "#" + settings["color"].lower()
            channels.append({"index": index, **settings})
        result.append({"name": name, "channels": channels})
    return result


def apply_groups(doc: dict[str, Any], groups: list[dict[str, Any]] | None) -> dict[str, Any]:
    """`doc` (`.zattrs`, or a 0.5 `zarr.json`) with `chromatile.groups` set; unchanged when None."""
    if groups is None:
        return doc
    new = copy.deepcopy(doc)
    _, holder = storemeta.ome_attributes(new)  # where the `chromatile` block lives in either format
    holder.setdefault("chromatile", {})["groups"] = groups
    return new


def apply(doc: dict[str, Any], store_dir: str, settings: list[dict[str, Any]]) -> dict[str, Any]:
    """A copy of `doc` (the store's `.zattrs` or `zarr.json`) with the settings written in.

    Fields not given keep their stored value, or the contract's default when the store had none.
    """
    new = copy.deepcopy(doc)
    image = storemeta.read_image(store_dir, new)
    if len(image.channels) != len(settings):
        raise BadRequest(f"the store has {len(image.channels)} channels, the body {len(settings)}")
    channels = []
    for ch, s in zip(image.channels, settings, strict=True):
        changes: dict[str, Any] = {}
        if "color" in s:
            changes["color"] = s["color"]
        if "window" in s:
            changes["window"] = tuple(s["window"])
        if "visible" in s:
            changes["active"] = s["visible"]
        if "invert" in s:
            changes["inverted"] = s["invert"]
        if "gamma" in s:
            changes["gamma"] = s["gamma"]
        if "colormap" in s:
            changes["colormap"] = s["colormap"]
        channels.append(dataclasses.replace(ch, **changes))
    return storemeta.write_channels(new, image, channels)


# Shaders defined at run time (docs/viewer.md, "Extending the shaders"): the viewer checks the GLSL
# itself before it runs it (and only where the page allows user shaders); the server bounds what it stores.
SHADER_SOURCE_MAX = 16384
SHADER_NAME_RE = re.compile(r"[a-z][a-z0-9_]{0,31}\Z")
CONTROL_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}\Z")
MAX_CONTROLS = 64
MAX_DEFINITIONS = 32


def validate_shader(body: dict[str, Any]) -> dict[str, Any] | None:
    """The body's shader part, checked: None when it has no `shader` (the stored one stays), else
    `{"shader": {"source", "controls"} | None, "definitions": {"colormaps": {...}, "blends": {...}}}`.

    `shader` is the viewer's getState().shader (null: the built-in compositing); `definitions` the GLSL
    of the user colormaps and blends the state uses, name -> source.
    """
    if "shader" not in body:
        if "definitions" in body:
            raise BadRequest("'definitions' comes with 'shader' (null for the built-in compositing)")
        return None
    shader = body["shader"]
    if shader is not None:
        if not isinstance(shader, dict) or set(shader) - {"source", "controls"} or "source" not in shader:
            raise BadRequest("'shader' must be null or an object {\"source\": ..., \"controls\": {...}}")
        _check_source(shader["source"], "shader.source")
        controls = shader.get("controls", {})
        if not isinstance(controls, dict) or len(controls) > MAX_CONTROLS:
            raise BadRequest(f"shader.controls must be an object of at most {MAX_CONTROLS} controls")
        for name, value in controls.items():
            if not CONTROL_NAME_RE.match(name):
                raise BadRequest(f"shader.controls: {name!r} is not a control name")
            if not (isinstance(value, bool) or _number(value) or (isinstance(value, str) and COLOR_RE.match(value))):
                raise BadRequest(f"shader.controls.{name} must be a number, true/false or '#rrggbb'")
        shader = {"source": shader["source"], "controls": dict(controls)}
    definitions = body.get("definitions") or {}
    if not isinstance(definitions, dict) or set(definitions) - {"colormaps", "blends"}:
        raise BadRequest("'definitions' must be an object {\"colormaps\": {...}, \"blends\": {...}}")
    out: dict[str, dict[str, str]] = {}
    for kind in ("colormaps", "blends"):
        entries = definitions.get(kind) or {}
        if not isinstance(entries, dict) or len(entries) > MAX_DEFINITIONS:
            raise BadRequest(f"definitions.{kind} must be an object of at most {MAX_DEFINITIONS} name: source entries")
        for name, source in entries.items():
            if not SHADER_NAME_RE.match(name):
                raise BadRequest(f"definitions.{kind}: {name!r} is not a name (a-z, 0-9, _; at most 32)")
            _check_source(source, f"definitions.{kind}.{name}")
            if not re.search(rf"\bvec3\s+{kind[:-1]}_{name}\s*\(", source):
                raise BadRequest(f"definitions.{kind}.{name} must define vec3 {kind[:-1]}_{name}(...)")
        out[kind] = dict(entries)
    return {"shader": shader, "definitions": out}


def _check_source(source: Any, where: str) -> None:
    if not isinstance(source, str) or not source.strip() or len(source) > SHADER_SOURCE_MAX:
        raise BadRequest(f"{where} must be GLSL text of at most {SHADER_SOURCE_MAX} characters")


def apply_shader(doc: dict[str, Any], shader: dict[str, Any] | None) -> dict[str, Any]:
    """`doc` with `chromatile.shader` and `chromatile.definitions` set (removed when empty); unchanged when None."""
    if shader is None:
        return doc
    new = copy.deepcopy(doc)
    block = (new.setdefault("attributes", {}) if new.get("zarr_format") == 3 else new).setdefault("chromatile", {})
    for key in ("shader", "definitions"):
        value = shader[key]
        if value and (key == "shader" or any(value.values())):
            block[key] = value
        else:
            block.pop(key, None)
    return new


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _plain(v: float) -> int | float:
    return int(v) if float(v).is_integer() else float(v)
