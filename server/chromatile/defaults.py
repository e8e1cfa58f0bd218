""""Save as default": validate a viewer's channel settings and write them into a store's `.zattrs`.

Body: `{"channels": [{"color": "#rrggbb", "window": [lo, hi], "visible": true, "gamma": 1.0,
"invert": false, "colormap": "color"}, ...]}`, one entry per channel, every field optional.
Mapping (docs/store-format.md): color -> omero.channels[i].color (RRGGBB), window -> window.start/end,
visible -> active, invert -> inverted, gamma/colormap -> chromatile.rendering[i].
"""

from __future__ import annotations

import copy
import math
import re
from typing import Any

from chromatile.errors import BadRequest

COLOR_RE = re.compile(r"#?([0-9A-Fa-f]{6})\Z")
COLORMAP_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}\Z")
FIELDS = ("color", "window", "visible", "gamma", "invert", "colormap")
DTYPE_MAX = {"uint8": 255, "|u1": 255, "uint16": 65535, "<u2": 65535}


def validate(body: Any, channel_count: int, dtype: str) -> list[dict[str, Any]]:
    """Checked, normalised settings per channel; BadRequest naming the first problem."""
    if not isinstance(body, dict) or set(body) != {"channels"}:
        raise BadRequest('the body must be a JSON object {"channels": [...]}')
    channels = body["channels"]
    if not isinstance(channels, list) or len(channels) != channel_count:
        raise BadRequest(f"'channels' must be a list of {channel_count} entries (one per channel)")
    top = DTYPE_MAX.get(dtype, 65535)
    result = []
    for i, entry in enumerate(channels):
        where = f"channels[{i}]"
        if not isinstance(entry, dict):
            raise BadRequest(f"{where} must be an object")
        unknown = sorted(set(entry) - set(FIELDS))
        if unknown:
            raise BadRequest(f"{where} has unknown field(s) {', '.join(unknown)}; allowed: {', '.join(FIELDS)}")
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
        result.append(out)
    return result


def apply(zattrs: dict[str, Any], settings: list[dict[str, Any]]) -> dict[str, Any]:
    """A copy of `zattrs` with the settings written in; fields not given stay as they were."""
    new = copy.deepcopy(zattrs)
    channels = new.setdefault("omero", {}).setdefault("channels", [])
    if len(channels) != len(settings):
        raise BadRequest(f"the store has {len(channels)} channels, the body {len(settings)}")
    extra = new.setdefault("chromatile", {})
    rendering = extra.get("rendering") or []
    rendering = [dict(r) for r in rendering] + [{} for _ in range(len(settings) - len(rendering))]
    for ch, render, s in zip(channels, rendering, settings, strict=False):
        if "color" in s:
            ch["color"] = s["color"]
        if "window" in s:
            window = ch.setdefault("window", {})
            window["start"], window["end"] = s["window"]
        if "visible" in s:
            ch["active"] = s["visible"]
        if "invert" in s:
            ch["inverted"] = s["invert"]
        render.setdefault("gamma", 1.0)
        render.setdefault("colormap", "color")
        if "gamma" in s:
            render["gamma"] = s["gamma"]
        if "colormap" in s:
            render["colormap"] = s["colormap"]
    extra["rendering"] = rendering[: len(settings)]
    return new


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _plain(v: float) -> int | float:
    return int(v) if float(v).is_integer() else float(v)
