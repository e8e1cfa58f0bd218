"""The store's `.zattrs`: OME-NGFF 0.4 multiscales and omero blocks plus the `chromatile` extras."""

from __future__ import annotations

from chromatile.ingest.source import PhysicalSize
from chromatile.ingest.stats import ChannelSummary

# Used in this order when the source names no colour; one channel alone is shown in white.
DEFAULT_COLORS = ("0000FF", "00FF00", "FF0000", "FF00FF", "00FFFF", "FFFF00", "FFFFFF")
FORMAT_VERSION = 1


def channel_colors(given: list[str | None], count: int) -> list[str]:
    """The source's colours where given, else the default set."""
    if count == 1 and not (given and given[0]):
        return ["FFFFFF"]
    colors = []
    for i in range(count):
        color = given[i] if i < len(given) else None
        colors.append((color or DEFAULT_COLORS[i % len(DEFAULT_COLORS)]).upper())
    return colors


def channel_labels(given: list[str | None], count: int) -> list[str]:
    """The source's channel names where given, else ``Channel <i>``."""
    return [(given[i] if i < len(given) else None) or f"Channel {i}" for i in range(count)]


def multiscales(image_id: str, levels: int, physical: dict[str, PhysicalSize]) -> dict[str, object]:
    """One `multiscales` entry: axes t, c, z, y, x and a scale per level (XY doubles, Z stays)."""
    axes: list[dict[str, str]] = [{"name": "t", "type": "time"}, {"name": "c", "type": "channel"}]
    for name in ("z", "y", "x"):
        axis = {"name": name, "type": "space"}
        if name in physical:
            axis["unit"] = physical[name].unit
        axes.append(axis)
    size = {name: physical[name].value if name in physical else 1.0 for name in ("z", "y", "x")}
    datasets = [
        {
            "path": str(level),
            "coordinateTransformations": [
                {"type": "scale", "scale": [1.0, 1.0, size["z"], size["y"] * 2**level, size["x"] * 2**level]}
            ],
        }
        for level in range(levels)
    ]
    return {"version": "0.4", "name": image_id, "axes": axes, "datasets": datasets, "type": "mean"}


def zattrs(*, image_id: str, levels: int, physical: dict[str, PhysicalSize], labels: list[str],
           colors: list[str], summaries: list[ChannelSummary], dtype_name: str, tile: int, size_z: int,
           source_name: str, source_format: str, thumbnail: str) -> dict[str, object]:
    """The complete `.zattrs` document."""
    dtype_max = 255 if dtype_name == "uint8" else 65535
    channels = [
        {
            "label": label,
            "color": color,
            "active": True,
            "inverted": False,
            "coefficient": 1,
            "family": "linear",
            "window": {"start": s.window[0], "end": s.window[1], "min": 0, "max": dtype_max},
        }
        for label, color, s in zip(labels, colors, summaries, strict=True)
    ]
    return {
        "multiscales": [multiscales(image_id, levels, physical)],
        "omero": {
            "name": image_id,
            "version": "0.4",
            "rdefs": {"model": "color", "defaultZ": size_z // 2, "defaultT": 0},
            "channels": channels,
        },
        "chromatile": {
            "version": FORMAT_VERSION,
            "dtype": dtype_name,
            "tile": tile,
            "channels": [{"min": s.min, "max": s.max, "histogram": s.histogram()} for s in summaries],
            "thumbnail": thumbnail,
            "rendering": [{"gamma": 1.0, "colormap": "color"} for _ in summaries],
            "source": {"path": source_name, "format": source_format},
        },
    }
