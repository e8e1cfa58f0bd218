"""NumPy reference of the viewer's compositing maths (docs/viewer.md, "Compositing"), and of the view.

For each visible channel i with raw value v:
    t = clamp((v - lo) / (hi - lo), 0, 1) (a step at lo when hi <= lo); t = t ** gamma; if invert: t = 1 - t
    rgb_i = colormap(t)  ('color': t * channel colour)
additive: out = clamp(sum rgb_i, 0, 1); max: out = max_i rgb_i. Alpha 1, black background.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

VIRIDIS = np.array([
    [0.2777273272234177, 0.005407344544966578, 0.3340998053353061],
    [0.1050930431085774, 1.404613529898575, 1.384590162594685],
    [-0.3308618287255563, 0.214847559468213, 0.09509516302823659],
    [-4.634230498983486, -5.799100973351585, -19.33244095627987],
    [6.228269936347081, 14.17993336680509, 56.69055260068105],
    [4.776384997670288, -13.74514537774601, -65.35303263337234],
    [-5.435455855934631, 4.645852612178535, 26.3124352495832],
])
MAGMA = np.array([
    [-0.002136485053939582, -0.000749655052795221, -0.005386127855323933],
    [0.2516605407371642, 0.6775232436837668, 2.494026599312351],
    [8.353717279216625, -3.577719514958484, 0.3144679030132573],
    [-27.66873308576866, 14.26473078096533, -13.64921318813922],
    [52.17613981234068, -27.94360607168351, 12.94416944238394],
    [-50.76852536473588, 29.04658282127291, 4.23415299384598],
    [18.65570506591883, -11.48977351997711, -5.601961508734096],
])


def _poly(coeffs: np.ndarray, t: np.ndarray) -> np.ndarray:
    out = np.zeros((*t.shape, 3))
    for c in coeffs[::-1]:
        out = out * t[..., None] + c
    return np.clip(out, 0, 1)


def colormap(name: str, t: np.ndarray, color: str) -> np.ndarray:
    """rgb in [0, 1] of intensities t for a colormap name; `color` is '#rrggbb'."""
    if name == "color":
        rgb = np.array([int(color[i:i + 2], 16) / 255 for i in (1, 3, 5)])
        return t[..., None] * rgb
    if name == "grey":
        return np.repeat(t[..., None], 3, axis=-1)
    if name == "fire":
        return np.clip(np.stack([3 * t, 3 * t - 1, 3 * t - 2], axis=-1), 0, 1)
    if name == "ice":
        return np.clip(np.stack([3 * t - 2, 3 * t - 1, 3 * t], axis=-1), 0, 1)
    if name == "viridis":
        return _poly(VIRIDIS, t)
    if name == "magma":
        return _poly(MAGMA, t)
    if name == "dusk":  # tests/browser/test_shaders.py's colormap defined at run time
        return np.stack([t * t, np.sqrt(t), 1 - 0.5 * t], axis=-1)
    raise ValueError(f"no reference for colormap {name!r}")


def composite(planes: np.ndarray, channels: Sequence[dict[str, Any]], blend: str) -> np.ndarray:
    """rgb (H, W, 3) float in [0, 1] of raw planes (C, H, W) under per-channel settings."""
    out = np.zeros((*planes.shape[1:], 3))
    for plane, ch in zip(planes, channels, strict=False):
        if not ch["visible"]:
            continue
        lo, hi = ch["window"]
        if hi > lo:
            t = np.clip((plane.astype(np.float64) - lo) / (hi - lo), 0, 1)
        else:  # a zero-width (or reversed) window is a step at lo
            t = (plane > lo).astype(np.float64)
        t = t ** ch["gamma"]
        if ch["invert"]:
            t = 1 - t
        rgb = colormap(ch["colormap"], t, ch["color"])
        if blend == "additive":
            out = out + rgb
        elif blend == "max":
            out = np.maximum(out, rgb)
        elif blend == "screen":  # test_shaders.py's blend defined at run time
            out = 1 - (1 - out) * (1 - rgb)
        else:
            raise ValueError(f"no reference for blend {blend!r}")
    return np.clip(out, 0, 1)


def view_of(image: np.ndarray, center: Sequence[float], zoom: float, width: int, height: int) -> np.ndarray:
    """What a width x height canvas shows of `image` (H, W, 3) for a view: nearest sampling at pixel
    centres, black outside the image."""
    sx = np.floor(center[0] + (np.arange(width) + 0.5 - width / 2) / zoom).astype(int)
    sy = np.floor(center[1] + (np.arange(height) + 0.5 - height / 2) / zoom).astype(int)
    out = np.zeros((height, width, 3))
    okx = (sx >= 0) & (sx < image.shape[1])
    oky = (sy >= 0) & (sy < image.shape[0])
    out[np.ix_(oky, okx)] = image[np.ix_(sy[oky], sx[okx])]
    return out


def windowed(plane: np.ndarray, ch: dict[str, Any]) -> np.ndarray:
    """A channel's 0..1 value after its window, gamma and invert (the shader's windowed(i))."""
    lo, hi = ch["window"]
    t = np.clip((plane.astype(np.float64) - lo) / (hi - lo), 0, 1) ** ch["gamma"]
    return 1 - t if ch["invert"] else t
