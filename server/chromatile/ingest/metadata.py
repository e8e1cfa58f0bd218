"""The group metadata ingest writes (`.zattrs` for 0.4, `zarr.json` for 0.5), built with the store contract."""

from __future__ import annotations

from typing import Any

from chromatile import storemeta
from chromatile.ingest.source import PhysicalSize
from chromatile.ingest.stats import ChannelSummary
from chromatile.storemeta import ChannelMeta, ChannelStats


def channel_colors(given: list[str | None], count: int) -> list[str]:
    """The source's colours where given, else the contract's defaults."""
    return [((given[i] if i < len(given) else None) or storemeta.default_color(i, count)).upper()
            for i in range(count)]


def channel_labels(given: list[str | None], count: int) -> list[str]:
    """The source's channel names where given, else the contract's default label."""
    return [(given[i] if i < len(given) else None) or storemeta.default_label(i) for i in range(count)]


def axes_and_scales(levels: int, physical: dict[str, PhysicalSize]) -> tuple[list[dict[str, str]], list[list[float]]]:
    """Axes t, c, z, y, x (units where the source gives them) and a scale per level (XY doubles, Z stays)."""
    axes: list[dict[str, str]] = [{"name": "t", "type": "time"}, {"name": "c", "type": "channel"}]
    for name in ("z", "y", "x"):
        axis = {"name": name, "type": "space"}
        if name in physical:
            axis["unit"] = physical[name].unit
        axes.append(axis)
    size = {name: physical[name].value if name in physical else 1.0 for name in ("z", "y", "x")}
    scales = [[1.0, 1.0, size["z"], size["y"] * 2**level, size["x"] * 2**level] for level in range(levels)]
    return axes, scales


def document(*, ngff: str, image_id: str, levels: int, physical: dict[str, PhysicalSize], labels: list[str],
             colors: list[str], summaries: list[ChannelSummary], dtype_name: str, tile: int, size_z: int,
             source_name: str, source_format: str, thumbnail: str,
             absent: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The complete group metadata document of a new store."""
    top = storemeta.dtype_max(dtype_name)
    channels = [
        ChannelMeta(label=label, color=color, active=i < storemeta.DEFAULT_ACTIVE, inverted=False, window=s.window, range=(0, top),
                    stats=ChannelStats(s.min, s.max, s.histogram()))
        for i, (label, color, s) in enumerate(zip(labels, colors, summaries, strict=True))
    ]
    axes, scales = axes_and_scales(levels, physical)
    return storemeta.group_document(
        ngff,
        storemeta.multiscales(ngff, image_id, axes, scales),
        storemeta.omero(ngff, image_id, channels, size_z // 2),
        storemeta.extras(dtype=dtype_name, tile=tile, channels=channels, thumbnail=thumbnail,
                         source={"path": source_name, "format": source_format}, absent=absent),
    )
