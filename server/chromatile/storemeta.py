"""The store contract in one place: typed image and channel metadata, read from and written to
OME-Zarr 0.4 (`.zattrs`, Zarr v2) and 0.5 (`zarr.json` attributes under `ome`, Zarr v3).

Ingest writes with it, the server's metadata summary reads with it, and "save as default" rewrites with
it, so every default for a field a store does not hold is defined here once (docs/store-format.md,
"Defaults"; the viewer's JavaScript twin follows the same rules). Nothing here knows HTTP.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

NGFF_04 = "0.4"
NGFF_05 = "0.5"
ZATTRS = ".zattrs"
ZARR_JSON = "zarr.json"
FORMAT_VERSION = 1  # of the `chromatile` block

# Used in this order for channels without a colour; a single-channel image is shown in white.
DEFAULT_COLORS = ("0000FF", "00FF00", "FF0000", "FF00FF", "00FFFF", "FFFF00", "FFFFFF")
DEFAULT_ACTIVE = 4  # channels 0..3 are shown when a store does not say
DEFAULT_GAMMA = 1.0
DEFAULT_COLORMAP = "color"
COLOR_RE = re.compile(r"#?[0-9A-Fa-f]{6}")
# Zarr v2 dtype strings and Zarr v3 data_type names of the integer types, with their maximum.
_INT_MAX = {"uint8": 255, "uint16": 65535, "uint32": 2**32 - 1, "uint64": 2**64 - 1,
            "int8": 127, "int16": 32767, "int32": 2**31 - 1, "int64": 2**63 - 1}
_V2_NAMES = {"u1": "uint8", "u2": "uint16", "u4": "uint32", "u8": "uint64",
             "i1": "int8", "i2": "int16", "i4": "int32", "i8": "int64", "f2": "float16", "f4": "float32",
             "f8": "float64", "b1": "bool"}


def dtype_name(dtype: str) -> str:
    """`uint16` for `<u2`, `>u2`, `|u1`... (Zarr v2 strings); Zarr v3 names are returned as they are."""
    return _V2_NAMES.get(dtype.lstrip("<>|="), dtype)


def dtype_max(dtype: str) -> float:
    """The top of a dtype's range: 255 / 65535 / ... for integers, 1.0 for floats and booleans."""
    return _INT_MAX.get(dtype_name(dtype), 1.0)


def default_label(index: int) -> str:
    """Label of a channel that has none."""
    return f"Channel {index}"


def default_color(index: int, count: int) -> str:
    """Colour (RRGGBB) of a channel that has none: white when alone, else the palette in order."""
    return "FFFFFF" if count == 1 else DEFAULT_COLORS[index % len(DEFAULT_COLORS)]


@dataclass(frozen=True)
class ChannelStats:
    """What ingest measured of one channel (the `chromatile.channels[i]` block)."""

    min: int
    max: int
    histogram: dict[str, Any]  # {"range": [min, max + 1], "counts": [...]}

    def to_json(self) -> dict[str, Any]:
        """The stored form."""
        return {"min": self.min, "max": self.max, "histogram": self.histogram}


@dataclass
class ChannelMeta:
    """One channel's rendering defaults, every field filled (from the store or by the defaults)."""

    label: str
    color: str  # RRGGBB, upper case, no '#'
    active: bool
    inverted: bool
    window: tuple[float, float]  # default contrast window (start, end)
    range: tuple[float, float]  # omero window min/max: the slider's extent
    gamma: float = DEFAULT_GAMMA
    colormap: str = DEFAULT_COLORMAP
    stats: ChannelStats | None = None

    def omero(self) -> dict[str, Any]:
        """The `omero.channels[i]` entry."""
        return {
            "label": self.label, "color": self.color, "active": self.active, "inverted": self.inverted,
            "coefficient": 1, "family": "linear",
            "window": {"start": self.window[0], "end": self.window[1], "min": self.range[0], "max": self.range[1]},
        }

    def rendering(self) -> dict[str, Any]:
        """The `chromatile.rendering[i]` entry (what omero has no field for)."""
        return {"gamma": self.gamma, "colormap": self.colormap}


def default_channel(index: int, count: int, dtype: str, stats: ChannelStats | None = None) -> ChannelMeta:
    """A channel as it is shown when the store says nothing about it."""
    top = dtype_max(dtype)
    window = (stats.min, stats.max) if stats is not None else (0, top)
    return ChannelMeta(label=default_label(index), color=default_color(index, count), active=index < DEFAULT_ACTIVE,
                       inverted=False, window=window, range=(0, top), stats=stats)


@dataclass
class LevelMeta:
    """One resolution level (one Zarr array)."""

    path: str
    shape: list[int]
    chunks: list[int]  # the chunk a reader decodes (inner chunk when sharded)
    shards: list[int] | None  # shard shape (0.5 sharded), else None
    scale: list[float]
    dtype: str  # as the array metadata spells it (`<u2` in v2, `uint16` in v3)
    codec: str | None  # the compressor's name (`blosc`, `zstd`...), None when uncompressed


@dataclass
class ImageMeta:
    """Everything the store says about one image, defaults applied."""

    ngff: str  # "0.4" or "0.5"
    name: str
    axes: list[dict[str, Any]]
    levels: list[LevelMeta]
    channels: list[ChannelMeta]
    dtype: str  # numpy name: uint8, uint16, ...
    tile: int
    default_z: int = 0
    default_t: int = 0
    thumbnail: str | None = None
    source: dict[str, Any] | None = None
    extras: dict[str, Any] = field(default_factory=dict)  # the `chromatile` block as stored

    def physical_sizes(self) -> dict[str, dict[str, Any]]:
        """Pixel size and unit of every space axis at full resolution."""
        scale = self.levels[0].scale
        return {a["name"]: {"size": scale[i], "unit": a.get("unit")}
                for i, a in enumerate(self.axes) if a.get("type") == "space"}


# -- which format, which file --------------------------------------------------------------------------


def metadata_file(store_dir: str | os.PathLike[str]) -> str:
    """The file holding a store's group metadata: `zarr.json` (0.5) when present, else `.zattrs` (0.4)."""
    v3 = os.path.join(store_dir, ZARR_JSON)
    return v3 if os.path.isfile(v3) else os.path.join(store_dir, ZATTRS)


def is_store(store_dir: str | os.PathLike[str]) -> bool:
    """Whether a folder holds group metadata of either format (cheap: one or two stats)."""
    return os.path.isfile(os.path.join(store_dir, ZARR_JSON)) or os.path.isfile(os.path.join(store_dir, ZATTRS))


def ome_attributes(doc: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the dict holding `multiscales`/`omero`, the dict holding `chromatile`) of a parsed metadata file.

    0.4: both are the `.zattrs` object. 0.5: `attributes.ome` and `attributes` of `zarr.json`.
    The returned dicts are the document's own (changing them changes `doc`).
    """
    if doc.get("zarr_format") == 3:
        attributes = doc.setdefault("attributes", {})
        return attributes.setdefault("ome", {}), attributes
    return doc, doc


# -- reading ------------------------------------------------------------------------------------------------


def read_image(store_dir: str | os.PathLike[str], doc: dict[str, Any] | None = None) -> ImageMeta:
    """Parse a store's metadata (either format) with every default applied.

    ``doc`` is the group metadata file already read (under a lock, say); else it is read now.
    Raises OSError, ValueError, KeyError, IndexError or TypeError on a malformed store.
    """
    if doc is None:
        doc = _read_json(metadata_file(store_dir))
    ngff = NGFF_05 if doc.get("zarr_format") == 3 else NGFF_04
    ome, holder = ome_attributes(doc)
    ms = ome["multiscales"][0]
    omero = _dict(ome.get("omero") or holder.get("omero"), "omero")
    extras = _dict(holder.get("chromatile"), "chromatile")
    axes = [dict(a) for a in ms["axes"]]
    if not all(isinstance(a.get("name"), str) for a in axes):
        raise TypeError("multiscales[0].axes has an axis without a name")
    levels = []
    for ds in ms["datasets"]:
        path = str(ds["path"])
        scale = next(t["scale"] for t in ds["coordinateTransformations"] if t["type"] == "scale")
        level = _read_level(os.path.join(store_dir, path), path, scale)
        if len(level.shape) != len(axes) or len(level.chunks) != len(axes) or len(scale) != len(axes):
            raise ValueError(f"level {path} has {len(level.shape)} dimensions, the axes {len(axes)}")
        if any(c < 1 for c in level.chunks) or any(n < 0 for n in level.shape):
            raise ValueError(f"level {path} has a chunk size below 1 or a negative shape")
        if not all(_number(v) for v in scale):
            raise ValueError(f"level {path} has a scale that is not {len(axes)} numbers")
        levels.append(level)
    if not levels:
        raise ValueError("multiscales has no datasets")
    dtype = extras.get("dtype") or dtype_name(levels[0].dtype)
    names = [a["name"] for a in axes]
    count = levels[0].shape[names.index("c")] if "c" in names else 1
    stats = _list(extras.get("channels"), "chromatile.channels")
    rendering = _list(extras.get("rendering"), "chromatile.rendering")
    stored = _list(omero.get("channels"), "omero.channels")
    channels = [
        _channel(i, count, dtype, _dict(stored[i] if i < len(stored) else None, f"omero.channels[{i}]"),
                 _dict(rendering[i] if i < len(rendering) else None, f"chromatile.rendering[{i}]"),
                 _stats(stats[i]) if i < len(stats) else None)
        for i in range(count)
    ]
    rdefs = _dict(omero.get("rdefs"), "omero.rdefs")
    thumbnail = extras.get("thumbnail")
    if thumbnail is not None and not isinstance(thumbnail, str):
        raise TypeError("chromatile.thumbnail is not a file name")
    return ImageMeta(
        ngff=ngff, name=ms.get("name") or omero.get("name") or os.path.basename(os.fspath(store_dir)),
        axes=axes, levels=levels, channels=channels, dtype=dtype,
        tile=int(extras.get("tile") or levels[0].chunks[-1]),
        default_z=int(rdefs.get("defaultZ", 0)), default_t=int(rdefs.get("defaultT", 0)),
        thumbnail=thumbnail, source=extras.get("source"), extras=extras,
    )


def _read_level(folder: str, path: str, scale: list[float]) -> LevelMeta:
    v3 = os.path.join(folder, ZARR_JSON)
    if os.path.isfile(v3):
        meta = _read_json(v3)
        chunks = _ints(meta["chunk_grid"]["configuration"]["chunk_shape"])
        codecs = meta.get("codecs") or []
        shards = None
        if codecs and codecs[0]["name"] == "sharding_indexed":
            shards, chunks = chunks, _ints(codecs[0]["configuration"]["chunk_shape"])
            codecs = codecs[0]["configuration"].get("codecs") or []
        codec = next((c["name"] for c in codecs if c["name"] not in ("bytes", "transpose", "crc32c")), None)
        return LevelMeta(path=path, shape=_ints(meta["shape"]), chunks=chunks, shards=shards, scale=list(scale),
                         dtype=str(meta["data_type"]), codec=codec)
    meta = _read_json(os.path.join(folder, ".zarray"))
    return LevelMeta(path=path, shape=_ints(meta["shape"]), chunks=_ints(meta["chunks"]), shards=None,
                     scale=list(scale), dtype=str(meta["dtype"]), codec=(meta.get("compressor") or {}).get("id"))


def _stats(block: dict[str, Any]) -> ChannelStats | None:
    if not isinstance(block, dict) or not (_number(block.get("min")) and _number(block.get("max"))):
        return None
    histogram = block.get("histogram")
    return ChannelStats(min=block["min"], max=block["max"], histogram=histogram if isinstance(histogram, dict) else {})


def _channel(index: int, count: int, dtype: str, stored: dict[str, Any], render: dict[str, Any],
             stats: ChannelStats | None) -> ChannelMeta:
    """Stored fields where they are usable (the same tests as the viewer's twin), defaults elsewhere."""
    base = default_channel(index, count, dtype, stats)
    window = _dict(stored.get("window"), f"omero.channels[{index}].window")
    color = stored.get("color")
    label = stored.get("label")
    gamma = render.get("gamma")
    colormap = render.get("colormap")
    return ChannelMeta(
        label=str(label) if label else base.label,
        color=color.lstrip("#").upper() if isinstance(color, str) and COLOR_RE.fullmatch(color) else base.color,
        active=bool(stored["active"]) if "active" in stored else base.active,
        inverted=bool(stored.get("inverted")),
        window=(_num(window, "start", base.window[0]), _num(window, "end", base.window[1])),
        range=(_num(window, "min", base.range[0]), _num(window, "max", base.range[1])),
        gamma=float(gamma) if gamma is not None and _number(gamma) else base.gamma,
        colormap=str(colormap) if colormap else base.colormap,
        stats=stats,
    )


def summary(image_id: str, image: ImageMeta) -> dict[str, Any]:
    """The API's metadata summary of one image (plain JSON types): shape, levels, pixel sizes, channels."""
    base = image.levels[0].scale
    levels = [{
        "path": lv.path, "shape": lv.shape, "chunks": lv.chunks, "shards": lv.shards, "scale": lv.scale,
        "downsample": [s / b if b else 1 for s, b in zip(lv.scale, base, strict=True)],
        "dtype": lv.dtype, "compressor": lv.codec,
    } for lv in image.levels]
    channels = [{
        "index": i, "label": ch.label, "color": ch.color, "active": ch.active, "inverted": ch.inverted,
        "window": {"start": ch.window[0], "end": ch.window[1], "min": ch.range[0], "max": ch.range[1]},
        "gamma": ch.gamma, "colormap": ch.colormap,
        "min": ch.stats.min if ch.stats else None, "max": ch.stats.max if ch.stats else None,
        "histogram": ch.stats.histogram if ch.stats else None,
    } for i, ch in enumerate(image.channels)]
    return {
        "id": image_id, "name": image.name, "ngff": image.ngff, "axes": image.axes,
        "shape": dict(zip([a["name"] for a in image.axes], image.levels[0].shape, strict=True)),
        "dtype": image.dtype, "tile": image.tile, "levels": levels, "physical_sizes": image.physical_sizes(),
        "channels": channels, "default_z": image.default_z, "default_t": image.default_t,
        "thumbnail": image.thumbnail, "source": image.source,
    }


# -- writing -------------------------------------------------------------------------------------------------


def multiscales(ngff: str, name: str, axes: list[dict[str, Any]], scales: list[list[float]]) -> dict[str, Any]:
    """One `multiscales` entry (0.4 carries its version here, 0.5 in `ome.version`)."""
    entry: dict[str, Any] = {"version": ngff} if ngff == NGFF_04 else {}
    entry.update({
        "name": name, "axes": axes,
        "datasets": [{"path": str(i), "coordinateTransformations": [{"type": "scale", "scale": s}]}
                     for i, s in enumerate(scales)],
        "type": "mean",
    })
    return entry


def omero(ngff: str, name: str, channels: list[ChannelMeta], default_z: int, default_t: int = 0) -> dict[str, Any]:
    """The `omero` block: channel rendering defaults and the default plane."""
    block: dict[str, Any] = {"name": name}
    if ngff == NGFF_04:
        block["version"] = NGFF_04
    block["rdefs"] = {"model": "color", "defaultZ": default_z, "defaultT": default_t}
    block["channels"] = [c.omero() for c in channels]
    return block


def extras(*, dtype: str, tile: int, channels: list[ChannelMeta], thumbnail: str,
           source: dict[str, Any], absent: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The `chromatile` block: stats and histograms, viewer settings omero lacks, thumbnail, provenance,
    and (0.4 stores) which chunks each level leaves out."""
    block: dict[str, Any] = {
        "version": FORMAT_VERSION, "dtype": dtype, "tile": tile,
        "channels": [c.stats.to_json() if c.stats is not None else {} for c in channels],
        "thumbnail": thumbnail,
        "rendering": [c.rendering() for c in channels],
        "source": source,
    }
    if absent is not None:
        block["absent"] = absent
    return block


# -- absent chunks (0.4) ---------------------------------------------------------------------------------
# A Zarr v2 reader learns that a chunk is left out only from a 404, which browsers log as a red console
# line per chunk. Our own 0.4 stores therefore list the chunks ingest left out, per level, as run lengths
# over the chunk grid in C order: [other, absent, other, absent, ..., other] (the first run may be 0).
# Every chunk in an absent run is absent; a chunk in an "other" run is present or, when the level had
# more than ABSENT_MAX_RUNS absent runs, possibly absent too: only the longest runs are listed then
# ("complete": false), which bounds a level's entry to ~30 KB of JSON however scattered the empty
# tiles of a gigapixel stack are (docs/store-format.md). Readers fetch unlisted chunks as usual.
ABSENT_MAX_RUNS = 2048
_ABSENT_BLOCK = 1 << 20  # bytes of the bitmap unpacked at a time (8 Mi chunks)


def absent_level(grid: Sequence[int], bits: bytes | bytearray, cap: int = ABSENT_MAX_RUNS) -> dict[str, Any]:
    """A level's `chromatile.absent` entry from a bitmap of its chunk grid (bit i set: chunk i in C order
    absent, least significant bit first): its absent runs, or the ``cap`` longest of them."""
    count = math.prod(grid)
    starts = np.empty(0, np.int64)
    ends = np.empty(0, np.int64)
    complete = True
    carried: int | None = None  # start of an absent run reaching the end of the previous block
    for offset in range(0, len(bits), _ABSENT_BLOCK):
        base = offset * 8
        block = np.frombuffer(bits, np.uint8, count=min(_ABSENT_BLOCK, len(bits) - offset), offset=offset)
        flags = np.unpackbits(block, bitorder="little")[: max(0, count - base)].astype(np.int8)
        if not flags.size:
            break
        edges = np.diff(np.concatenate(([0], flags, [0])))
        s, e = np.flatnonzero(edges == 1) + base, np.flatnonzero(edges == -1) + base
        if carried is not None:
            if flags[0]:
                s[0] = carried
            else:
                s, e = np.concatenate(([carried], s)), np.concatenate(([base], e))
            carried = None
        if flags[-1]:
            carried, s, e = int(s[-1]), s[:-1], e[:-1]
        starts, ends = np.concatenate((starts, s)), np.concatenate((ends, e))
        if starts.size > cap:  # keep the longest runs (bounded memory and output)
            keep = np.sort(np.argsort(starts - ends, kind="stable")[:cap])
            starts, ends, complete = starts[keep], ends[keep], False
    if carried is not None:
        starts, ends = np.concatenate((starts, [carried])), np.concatenate((ends, [count]))
        if starts.size > cap:
            keep = np.sort(np.argsort(starts - ends, kind="stable")[:cap])
            starts, ends, complete = starts[keep], ends[keep], False
    runs: list[int] = []
    at = 0
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        runs += [start - at, end - start]
        at = end
    runs.append(count - at)
    return {"grid": list(grid), "complete": complete, "runs": runs}


def chunk_grid(level: LevelMeta) -> list[int]:
    """Chunks along each axis of a level: ceil(shape / chunks)."""
    return [-(-n // c) for n, c in zip(level.shape, level.chunks, strict=True)]


def read_absent(extras_block: dict[str, Any], index: int, grid: Sequence[int]) -> list[tuple[int, int]] | None:
    """The absent chunks of level ``index`` as sorted [start, end) ranges of C-order chunk numbers, or None
    when the store has no usable record for it: missing, malformed, or written for another grid (the
    same checks as the viewer's twin in webclient/src/store/v2.js)."""
    levels = extras_block.get("absent")
    entry = levels[index] if isinstance(levels, list) and 0 <= index < len(levels) else None
    if not isinstance(entry, dict) or entry.get("grid") != list(grid):
        return None
    runs = entry.get("runs")
    if not isinstance(runs, list) or not all(isinstance(r, int) and not isinstance(r, bool) and r >= 0 for r in runs):
        return None
    if sum(runs) != math.prod(grid):
        return None
    ranges: list[tuple[int, int]] = []
    at = 0
    for i, run in enumerate(runs):
        if i % 2 and run:
            ranges.append((at, at + run))
        at += run
    return ranges


def group_document(ngff: str, multiscales_entry: dict[str, Any], omero_block: dict[str, Any],
                   extras_block: dict[str, Any]) -> dict[str, Any]:
    """The whole group metadata file: `.zattrs` (0.4) or `zarr.json` (0.5)."""
    if ngff == NGFF_04:
        return {"multiscales": [multiscales_entry], "omero": omero_block, "chromatile": extras_block}
    return {"zarr_format": 3, "node_type": "group", "attributes": {
        "ome": {"version": NGFF_05, "multiscales": [multiscales_entry], "omero": omero_block},
        "chromatile": extras_block,
    }}


def group_file(ngff: str) -> str:
    """Name of the group metadata file of a format."""
    return ZATTRS if ngff == NGFF_04 else ZARR_JSON


def write_channels(doc: dict[str, Any], image: ImageMeta, channels: list[ChannelMeta]) -> dict[str, Any]:
    """`doc` (a parsed group metadata file) with the rendering of `channels` written in.

    Fields the document has and the contract does not know stay as they were; a store that had no
    `omero` block gets a complete one (so what was shown with defaults is now written down).
    """
    ome, holder = ome_attributes(doc)
    block = ome.get("omero")
    if not isinstance(block, dict):
        block = omero(image.ngff, image.name, [], image.default_z, image.default_t)
        ome["omero"] = block
    stored = block.get("channels")
    if not isinstance(stored, list):
        stored = []
    stored = [dict(c) if isinstance(c, dict) else {} for c in stored[: len(channels)]]
    stored += [{} for _ in range(len(channels) - len(stored))]
    for entry, ch in zip(stored, channels, strict=True):
        window = entry.get("window") if isinstance(entry.get("window"), dict) else {}
        for key, value in ch.omero().items():
            entry.setdefault(key, value)  # label, coefficient, family: kept when present
        entry.update(color=ch.color, active=ch.active, inverted=ch.inverted)
        entry["window"] = {**window, "start": ch.window[0], "end": ch.window[1],
                           "min": window.get("min", ch.range[0]), "max": window.get("max", ch.range[1])}
    block["channels"] = stored
    extra = holder.setdefault("chromatile", {})
    extra["rendering"] = [c.rendering() for c in channels]
    return doc


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _num(block: dict[str, Any], key: str, default: float) -> float:
    value = block.get(key)
    return value if isinstance(value, int | float) and _number(value) else default


def _ints(values: Any) -> list[int]:
    if not isinstance(values, list) or not values or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in values):
        raise TypeError("shape/chunks must be a non-empty list of integers")
    return list(values)


def _dict(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TypeError(f"{where} is not an object")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise TypeError(f"{where} is not a list")
    return value


def _read_json(path: str) -> Any:
    with open(path, "rb") as f:
        return json.loads(f.read())
