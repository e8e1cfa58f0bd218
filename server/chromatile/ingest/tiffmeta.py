"""Channel names, colours and physical pixel sizes from OME-XML, ImageJ or TIFF resolution tags."""

from __future__ import annotations

from typing import Any

import tifffile

from chromatile.ingest.source import PhysicalSize

# OME / ImageJ unit spellings -> OME-NGFF 0.4 unit names.
UNITS = {
    "µm": "micrometer", "um": "micrometer", "micron": "micrometer",
    "microns": "micrometer", "micrometer": "micrometer", "nm": "nanometer", "nanometer": "nanometer",
    "mm": "millimeter", "millimeter": "millimeter", "cm": "centimeter", "centimeter": "centimeter",
    "m": "meter", "meter": "meter", "pm": "picometer", "Å": "angstrom", "angstrom": "angstrom",
}


def _aslist(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def ome_color(value: Any) -> str | None:
    """OME's signed 32-bit RGBA integer as ``RRGGBB``."""
    try:
        return f"{(int(value) & 0xFFFFFFFF) >> 8:06X}"
    except (TypeError, ValueError):
        return None


def from_ome(xml: str, series_index: int = 0) -> tuple[list[str | None], list[str | None], dict[str, PhysicalSize]]:
    """Channel labels, colours and pixel sizes of one OME image."""
    images = _aslist(tifffile.xml2dict(xml).get("OME", {}).get("Image"))
    if len(images) <= series_index:
        return [], [], {}
    pixels = images[series_index].get("Pixels", {})
    names: list[str | None] = []
    colors: list[str | None] = []
    for channel in _aslist(pixels.get("Channel")):
        count = int(channel.get("SamplesPerPixel", 1) or 1)
        name = channel.get("Name")
        color = ome_color(channel["Color"]) if "Color" in channel else None
        for _ in range(count):
            names.append(str(name) if name not in (None, "") else None)
            colors.append(color)
    physical: dict[str, PhysicalSize] = {}
    for axis in ("x", "y", "z"):
        size = pixels.get(f"PhysicalSize{axis.upper()}")
        unit = UNITS.get(str(pixels.get(f"PhysicalSize{axis.upper()}Unit", "µm")))
        if size is not None and unit is not None and float(size) > 0:
            physical[axis] = PhysicalSize(float(size), unit)
    return names, colors, physical


def _resolution(page: Any, unit: str | None) -> dict[str, PhysicalSize]:
    """Pixel size from XResolution/YResolution (pixels per unit)."""
    tags = page.tags
    if "XResolution" not in tags or "YResolution" not in tags:
        return {}
    res_unit = tags["ResolutionUnit"].value if "ResolutionUnit" in tags else 2
    if unit is None:
        # TIFF's own units: inch and centimetre; NONE means the values are meaningless.
        factor = {2: 25400.0, 3: 10000.0}.get(int(res_unit))
        if factor is None:
            return {}
        unit = "micrometer"
    else:
        factor = 1.0
    out = {}
    for axis, tag in (("x", "XResolution"), ("y", "YResolution")):
        num, den = tags[tag].value
        if num > 0 and den > 0:
            out[axis] = PhysicalSize(factor * den / num, unit)
    return out


def from_imagej(meta: dict[str, Any], page: Any) -> tuple[list[str | None], list[str | None], dict[str, PhysicalSize]]:
    """Channel colours from ImageJ LUTs, labels, and pixel sizes from resolution, spacing and unit."""
    unit = UNITS.get(str(meta.get("unit", "")).replace("\\u00B5", "µ"))
    physical = _resolution(page, unit) if unit else {}
    if unit and meta.get("spacing"):
        physical["z"] = PhysicalSize(float(meta["spacing"]), unit)
    colors: list[str | None] = []
    for lut in meta.get("LUTs", []) or []:
        try:
            r, g, b = (int(lut[i][-1]) for i in range(3))
            colors.append(f"{r:02X}{g:02X}{b:02X}")
        except (IndexError, TypeError, ValueError):
            colors.append(None)
    names: list[str | None] = []
    labels = meta.get("Labels")
    channels = int(meta.get("channels", 1) or 1)
    if isinstance(labels, list) and len(labels) == channels:
        names = [str(label) or None for label in labels]
    return names, colors, physical


def from_tags(page: Any) -> dict[str, PhysicalSize]:
    """Pixel sizes of a plain TIFF, when its resolution unit is inch or centimetre."""
    return _resolution(page, None)
