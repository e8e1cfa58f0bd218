"""An existing OME-Zarr image (0.4 on Zarr v2 or 0.5 on Zarr v3, local folder) as an ingest Source.

Level 0 of the first multiscale is re-tiled into our layout; the source's own pyramid is not reused
(ours is a defined 2x2 mean). Any axis order and subset of t, c, z, y, x is accepted, any chunking and
any codec zarr-python reads. Rows are read band by band: planes that share a source chunk along t/c/z
are read together (each chunk is decoded once per band), as many as fit a memory budget.
A bioformats2raw container opens its series 0.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

import numpy as np
import zarr

from chromatile.ingest.errors import IngestError, one_line
from chromatile.ingest.source import PhysicalSize, PlaneGroup, ReadRows, Source

AXES = ("t", "c", "z", "y", "x")
# Bytes of source rows held per band read (all planes of a group together).
BAND_BUDGET = 128 * 2**20
# OME-NGFF units as tiffmeta spells them: pass through the ones it knows, drop anything else.
SPACE_UNITS = frozenset({"angstrom", "nanometer", "micrometer", "millimeter", "centimeter", "meter"})


def is_ome_zarr(path: Path) -> bool:
    """Whether a folder is a Zarr group (v2 `.zattrs`/`.zgroup` or v3 `zarr.json`)."""
    return any((path / name).is_file() for name in ("zarr.json", ".zattrs", ".zgroup"))


def _ome(group: zarr.Group) -> dict[str, Any]:
    attrs = dict(group.attrs)
    ome = attrs.get("ome")
    return dict(ome) if isinstance(ome, dict) else attrs


def _open_image(path: Path) -> tuple[zarr.Group, dict[str, Any]]:
    try:
        group = zarr.open_group(str(path), mode="r")
    except Exception as exc:  # zarr raises many types on damaged metadata
        raise IngestError(f"{path}: not a readable Zarr group ({one_line(exc)})") from exc
    ome = _ome(group)
    if "multiscales" not in ome and "bioformats2raw.layout" in ome:
        try:
            group = zarr.open_group(str(path / "0"), mode="r")
        except Exception as exc:  # zarr raises many types on damaged metadata
            raise IngestError(f"{path}: bioformats2raw container without a readable series 0 ({one_line(exc)})") from exc
        ome = _ome(group)
    if "plate" in ome:
        raise IngestError(f"{path}: an HCS plate holds many images; pass one field's folder (e.g. {path}/A/1/0)")
    if "well" in ome:
        raise IngestError(f"{path}: an HCS well holds many images; pass one field's folder (e.g. {path}/0)")
    if not isinstance(ome.get("multiscales"), list) or not ome["multiscales"]:
        raise IngestError(f"{path}: Zarr group is not an OME-Zarr image (no multiscales metadata)")
    return group, ome


def open_ome_zarr(path: Path) -> Source:
    """Open level 0 of an OME-Zarr image folder; IngestError naming what is wrong otherwise."""
    # zarr-python decodes on a thread pool of its own (6 threads on 2 cores); each thread gets its own
    # malloc arena that keeps freed chunk buffers. One worker: 76 instead of 136 MiB over the baseline
    # for a 256 MiB plane (tests/ingest/test_ingest_from_zarr.py), no slower: our pool encodes meanwhile.
    zarr.config.set({"threading.max_workers": 1})
    group, ome = _open_image(path)
    try:
        ms = ome["multiscales"][0]
        names = [str(a["name"] if isinstance(a, dict) else a).lower() for a in ms["axes"]]
        dataset = ms["datasets"][0]
        array = group[str(dataset["path"])]
    except (KeyError, IndexError, TypeError) as exc:
        raise IngestError(f"{path}: malformed multiscales metadata ({one_line(exc)})") from exc
    except Exception as exc:  # zarr raises many types on damaged metadata
        raise IngestError(f"{path}: cannot open its first resolution level ({one_line(exc)})") from exc
    if not isinstance(array, zarr.Array):
        raise IngestError(f"{path}: dataset {dataset['path']!r} is not an array")
    unknown = [n for n in names if n not in AXES]
    if unknown or len(set(names)) != len(names) or "y" not in names or "x" not in names:
        raise IngestError(f"{path}: axes {names} are not supported (need y and x, optionally t, c, z)")
    if array.ndim != len(names):
        raise IngestError(f"{path}: level 0 has {array.ndim} dimensions but the metadata names {len(names)} axes")
    if any(n == 0 for n in array.shape):
        raise IngestError(f"{path}: image has a zero-size dimension (shape {tuple(array.shape)})")
    size = {n: int(array.shape[names.index(n)]) if n in names else 1 for n in AXES}
    chunk = {n: int(array.chunks[names.index(n)]) if n in names else 1 for n in AXES}
    dtype = np.dtype(array.dtype).newbyteorder("=")
    scale = next((t.get("scale") for t in dataset.get("coordinateTransformations") or []
                  if isinstance(t, dict) and t.get("type") == "scale"), None)
    physical = {}
    for i, axis in enumerate(ms["axes"]):
        unit = axis.get("unit") if isinstance(axis, dict) else None
        if names[i] in ("z", "y", "x") and unit in SPACE_UNITS and scale and i < len(scale):
            physical[names[i]] = PhysicalSize(float(scale[i]), str(unit))
    omero = ome["omero"] if isinstance(ome.get("omero"), dict) else {}
    channels = [c if isinstance(c, dict) else {} for c in omero.get("channels") or []][: size["c"]]
    labels: list[str | None] = [str(c["label"]) if c.get("label") else None for c in channels]
    colors: list[str | None] = [str(c["color"]) if isinstance(c.get("color"), str) and len(c["color"]) == 6
                                else None for c in channels]

    # planes read together: those in one source chunk along t, c, z, within the band budget
    rows = max(1, min(size["y"], chunk["y"]))
    per_plane = rows * size["x"] * dtype.itemsize
    limit = max(1, BAND_BUDGET // per_plane)
    steps = {n: chunk[n] for n in ("t", "c", "z")}
    for n in ("t", "c", "z"):  # shrink the outer axes first until a group fits the budget
        others = math.prod(steps[m] for m in ("t", "c", "z") if m != n)
        steps[n] = max(1, min(steps[n], limit // max(1, others)))
    if per_plane > BAND_BUDGET:  # one source chunk row alone is too tall: read fewer rows at a time
        rows = max(1, BAND_BUDGET // (size["x"] * dtype.itemsize))

    def read_group(t0: int, c0: int, z0: int, nt: int, nc: int, nz: int) -> ReadRows:
        def read(y0: int, y1: int, pool: Executor | None) -> np.ndarray:
            pos = {"t": slice(t0, t0 + nt), "c": slice(c0, c0 + nc), "z": slice(z0, z0 + nz),
                   "y": slice(y0, y1), "x": slice(None)}
            block = np.asarray(array[tuple(pos[n] for n in names)])
            order = [names.index(n) for n in AXES if n in names]
            block = block.transpose(order).reshape(nt * nc * nz, y1 - y0, size["x"])
            return block.astype(dtype, copy=False)
        return read

    def groups() -> Iterator[PlaneGroup]:
        for t0 in range(0, size["t"], steps["t"]):
            for c0 in range(0, size["c"], steps["c"]):
                for z0 in range(0, size["z"], steps["z"]):
                    nt, nc, nz = (min(steps["t"], size["t"] - t0), min(steps["c"], size["c"] - c0),
                                  min(steps["z"], size["z"] - z0))
                    planes = [(t, c, z) for t in range(t0, t0 + nt) for c in range(c0, c0 + nc)
                              for z in range(z0, z0 + nz)]
                    yield PlaneGroup(read_group(t0, c0, z0, nt, nc, nz), planes, rows)

    return Source(
        path=path,
        format="ome-zarr",
        shape=(size["t"], size["c"], size["z"], size["y"], size["x"]),
        dtype=dtype,
        groups=groups,
        channel_names=labels if len(labels) == size["c"] else [],
        channel_colors=colors if len(colors) == size["c"] else [],
        physical=physical,
    )
