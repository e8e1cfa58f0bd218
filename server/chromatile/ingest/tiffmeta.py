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


# Resolutions that image software writes when it knows no pixel size, as (pixels per unit, TIFF
# ResolutionUnit): 1 per unit, 72/96/150/300 dpi (also as px/cm), and vips's 1 px/mm (10 px/cm). Taken
# as microscope pixels they would be 85 um to 2.5 cm, so they mean "pixel size unknown".
SOFTWARE_DEFAULTS = [(1.0, 2), (72.0, 2), (96.0, 2), (150.0, 2), (300.0, 2),
                     (1.0, 3), (10.0, 3)] + [(dpi / 2.54, 3) for dpi in (72.0, 96.0, 150.0, 300.0)]
UNIT_NAMES = {2: "inch", 3: "cm"}


def _is_software_default(per_unit: float, res_unit: int) -> bool:
    return any(unit == res_unit and abs(per_unit - value) <= value * 1e-3 for value, unit in SOFTWARE_DEFAULTS)


def _resolution(page: Any, unit: str | None) -> tuple[dict[str, PhysicalSize], str | None]:
    """Pixel size from XResolution/YResolution (pixels per unit), and why it is unknown when the tags
    hold a software default instead of a calibration."""
    tags = page.tags
    if "XResolution" not in tags or "YResolution" not in tags:
        return {}, None
    res_unit = tags["ResolutionUnit"].value if "ResolutionUnit" in tags else 2
    fractions = {}
    for axis, tag in (("x", "XResolution"), ("y", "YResolution")):
        num, den = tags[tag].value
        if num > 0 and den > 0:
            fractions[axis] = (num, den)
    per_unit = {axis: num / den for axis, (num, den) in fractions.items()}
    if unit is None:
        # TIFF's own units: inch and centimetre; NONE means the values are meaningless.
        factor = {2: 25400.0, 3: 10000.0}.get(int(res_unit))
        if factor is None:
            return {}, None
        if per_unit and all(_is_software_default(v, int(res_unit)) for v in per_unit.values()):
            shown = ", ".join(sorted({f"{v:g}" for v in per_unit.values()}))
            return {}, (f"pixel size unknown: the resolution tags hold {shown} pixels per "
                        f"{UNIT_NAMES[int(res_unit)]}, a default of image software, not a calibration")
        unit = "micrometer"
    else:
        factor = 1.0
    return {axis: PhysicalSize(factor * den / num, unit) for axis, (num, den) in fractions.items()}, None


def from_imagej(meta: dict[str, Any], page: Any) -> tuple[list[str | None], list[str | None], dict[str, PhysicalSize]]:
    """Channel colours from ImageJ LUTs, labels, and pixel sizes from resolution, spacing and unit."""
    unit = UNITS.get(str(meta.get("unit", "")).replace("\\u00B5", "µ"))
    physical = _resolution(page, unit)[0] if unit else {}
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


def from_tags(page: Any) -> tuple[dict[str, PhysicalSize], str | None]:
    """Pixel sizes of a plain TIFF when its resolution unit is inch or centimetre and the values are not
    a software default; else none, with the reason in the second item when it was a default."""
    return _resolution(page, None)
