"""`ingest()`: one source image -> one OME-Zarr store, streamed band by band, placed atomically."""

from __future__ import annotations

import math
import os
import shutil
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numcodecs.abc import Codec

from chromatile.ingest import compression as compression_defaults
from chromatile.ingest import metadata, placement, thumbnail, tifflog
from chromatile.ingest.convert import Convert, converter
from chromatile.ingest.errors import IngestError, one_line
from chromatile.ingest.pipeline import Pipeline
from chromatile.ingest.progress import Progress
from chromatile.ingest.pyramid import Cascade, level_shapes
from chromatile.ingest.shardwriter import DEFAULT_SHARD, ShardWriter, check_shard
from chromatile.ingest.source import PhysicalSize, Source
from chromatile.ingest.sources import open_source
from chromatile.ingest.stats import ChannelStats, row_step
from chromatile.ingest.writer import ChunkWriter, write_json
from chromatile.store import STORE_SUFFIX
from chromatile.storemeta import NGFF_04, NGFF_05, group_file

THUMBNAIL_NAME = "thumbnail.png"


@dataclass
class IngestResult:
    """What an ingest produced."""

    store_path: Path
    image_id: str
    shape: tuple[int, int, int, int, int]
    dtype: str
    levels: int
    tile: int
    compression: str
    ngff: str
    shard: int | None
    chunks_written: int
    chunks_total: int
    workers: int
    seconds: float
    source_bytes: int
    physical: dict[str, PhysicalSize]  # keys "z", "y", "x"; no "x"/"y": pixel size unknown
    warnings: list[str]  # one line per problem in the source that ingest worked around

    def pixel_size(self) -> str:
        """``pixel 0.325 x 0.325 micrometer`` or ``pixel size unknown`` (for the one-line summary)."""
        x, y = self.physical.get("x"), self.physical.get("y")
        if x is None or y is None:
            return "pixel size unknown"
        return f"pixel {x.value:g} x {y.value:g} {x.unit if x.unit == y.unit else y.unit + ' / ' + x.unit}"

    def summary(self) -> dict[str, object]:
        """JSON-friendly summary (``chromatile ingest --json``)."""
        return {
            "id": self.image_id, "store": str(self.store_path), "shape": list(self.shape), "dtype": self.dtype,
            "levels": self.levels, "tile": self.tile, "compression": self.compression,
            "ngff": self.ngff, "shard": self.shard, "chunks_written": self.chunks_written, "chunks_total": self.chunks_total, "workers": self.workers,
            "seconds": round(self.seconds, 3), "source_bytes": self.source_bytes,
            "mb_per_s": round(self.source_bytes / 1e6 / max(self.seconds, 1e-9), 1),
            "pixel_size": {axis: {"value": size.value, "unit": size.unit} for axis, size in self.physical.items()},
            "warnings": self.warnings,
        }


def default_workers() -> int:
    """All cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def check_tile(tile: int) -> int:
    """Tiles are powers of two from 64 to 4096 (even sizes keep 2x2 bands aligned)."""
    if tile < 64 or tile > 4096 or tile & (tile - 1):
        raise IngestError(f"--tile {tile}: tile size must be a power of two from 64 to 4096")
    return tile


def ingest(src: str | Path, dest_dir: str | Path, *, image_id: str | None = None, tile: int | None = None,
           compression: str | None = None, workers: int | None = None, overwrite: bool = False,
           progress: bool = False, rescale: tuple[float, float] | None = None, ngff: str = NGFF_04,
           shard: int | None = None) -> IngestResult:
    """Convert ``src`` (TIFF file, folder of per-slice TIFFs, OME-Zarr) into ``dest_dir/<id>.ome.zarr``.

    ``ngff`` "0.4" writes Zarr v2, one file per tile; "0.5" writes Zarr v3 with tiles grouped into
    ``shard`` x ``shard`` pixel shards (default DEFAULT_SHARD).

    Raises :class:`IngestError` (a UserError) for anything wrong with the input or destination;
    on any failure nothing is left in ``dest_dir`` and an existing store is untouched. tifffile's own
    log lines are never printed: what it worked around is in the result's ``warnings``.
    """
    with tifflog.captured() as logged:
        result = _ingest(src, dest_dir, image_id=image_id, tile=tile, compression=compression, workers=workers,
                         overwrite=overwrite, progress=progress, rescale=rescale, ngff=ngff, shard=shard)
    result.warnings += tifflog.describe(src, logged)
    return result


def _ingest(src: str | Path, dest_dir: str | Path, *, image_id: str | None, tile: int | None,
            compression: str | None, workers: int | None, overwrite: bool, progress: bool,
            rescale: tuple[float, float] | None, ngff: str, shard: int | None) -> IngestResult:
    started = time.perf_counter()
    src, dest_dir = Path(src), Path(dest_dir)
    image_id = placement.check_id(image_id if image_id is not None else placement.id_from_path(src))
    tile = check_tile(tile if tile is not None else compression_defaults.DEFAULT_TILE)
    name = compression if compression is not None else compression_defaults.DEFAULT_COMPRESSION
    codec = compression_defaults.make_codec(name)
    if ngff not in (NGFF_04, NGFF_05):
        raise IngestError(f"--ngff {ngff}: choose {NGFF_04} or {NGFF_05}")
    if ngff == NGFF_04 and shard is not None:
        raise IngestError("--shard needs --ngff 0.5 (Zarr v2 has no sharding)")
    if ngff == NGFF_05:
        shard = check_shard(shard if shard is not None else max(DEFAULT_SHARD, tile), tile)
    if workers is not None and workers < 1:
        raise IngestError(f"--workers {workers}: need at least 1")
    workers = workers if workers is not None else default_workers()
    final = dest_dir / f"{image_id}{STORE_SUFFIX}"

    source = open_source(src)
    created: list[Path] = []
    try:
        store_dtype, convert = converter(src, source.dtype, rescale)
        created = placement.prepare_dest(dest_dir)
        placement.recover(dest_dir)
        placement.check_free(final, overwrite)  # before any work, not only at the end
        partial = placement.make_partial(dest_dir, image_id)
        try:
            with ThreadPoolExecutor(workers, thread_name_prefix="ingest") as pool:
                written, total, levels = _write_store(source, partial, image_id, tile, codec, store_dtype,
                                                      convert, pool, workers, progress, ngff, shard)
            placement.commit(partial, final, overwrite)
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
    except OSError as exc:  # writing the store failed: disk full, quota, permissions changed midway
        placement.remove_created(created)
        raise IngestError(f"{dest_dir}: cannot write the store ({one_line(exc)})") from exc
    except BaseException:
        placement.remove_created(created)  # leave no empty DEST_DIR we made ourselves
        raise
    finally:
        source.close()
    return IngestResult(
        store_path=final, image_id=image_id, shape=source.shape, dtype=str(store_dtype),
        levels=levels, tile=tile, compression=name, ngff=ngff, shard=shard,
        chunks_written=written, chunks_total=total, workers=workers, seconds=time.perf_counter() - started,
        source_bytes=source.nbytes, physical=source.physical, warnings=list(source.warnings),
    )


def _thumbnail_level(shapes: list[tuple[int, int]]) -> int:
    """The smallest level whose longest side still has at least THUMBNAIL_SIZE pixels."""
    level = 0
    for i, (h, w) in enumerate(shapes):
        if max(h, w) >= thumbnail.THUMBNAIL_SIZE:
            level = i
    return level


def _write_store(source: Source, root: Path, image_id: str, tile: int, codec: Codec | None, store_dtype: np.dtype,
                 convert: Convert | None, pool: ThreadPoolExecutor, workers: int,
                 progress: bool, ngff: str = NGFF_04, shard: int | None = None) -> tuple[int, int, int]:
    """Write every chunk, the thumbnail and the group metadata under ``root``; (chunks written, total, levels)."""
    nt, nc, nz, ny, nx = source.shape
    shapes = level_shapes(ny, nx, tile)
    writer: ChunkWriter | ShardWriter
    if ngff == NGFF_05:
        writer = ShardWriter(root, shapes, (nt, nc, nz), tile, store_dtype, codec, shard or DEFAULT_SHARD)
    else:
        writer = ChunkWriter(root, shapes, (nt, nc, nz), tile, store_dtype, codec)
    total = nt * nc * nz * sum(math.ceil(h / tile) * math.ceil(w / tile) for h, w in shapes)
    stats = ChannelStats(nc, store_dtype, row_step(ny, nx, tile))
    thumb_level = _thumbnail_level(shapes)
    thumb_z = nz // 2
    thumb_rows: dict[int, list[np.ndarray]] = {c: [] for c in range(nc)}
    bar = Progress(total, progress, image_id)
    written = 0

    def done(count: int) -> None:
        nonlocal written
        written += count
        bar.update(1)

    pipeline = Pipeline(pool)
    try:
        for group in source.groups():
            def emitter(t: int, c: int, z: int) -> Callable[[int, int, np.ndarray], None]:
                def emit(level: int, row: int, band: np.ndarray) -> None:
                    if level == 0:
                        pipeline.submit(stats.add, c, band)
                    if level == thumb_level and t == 0 and z == thumb_z:
                        thumb_rows[c].append(band.copy())
                    writer.submit_band(pipeline, level, t, c, z, row, band, done)
                return emit

            cascades = [Cascade(shapes, tile, emitter(t, c, z), pool, workers) for t, c, z in group.planes]
            step = tile * max(1, math.ceil(group.preferred_rows / tile))
            for y0 in range(0, ny, step):
                rows = group.read(y0, min(ny, y0 + step), pool)
                if convert is not None:
                    rows = convert(rows)
                for cascade, plane in zip(cascades, rows, strict=True):
                    cascade.push(plane)
                del rows, plane  # free this band before the next read
                pipeline.next_batch()  # bounded: waits for the band before last
            for cascade in cascades:
                cascade.finish()
            pipeline.next_batch()
        pipeline.wait_all()
        if isinstance(writer, ShardWriter):
            writer.finish()
    except BaseException:
        pipeline.cancel()
        if isinstance(writer, ShardWriter):
            writer.close()
        raise
    finally:
        bar.close()

    summaries = [stats.summary(c) for c in range(nc)]
    labels = metadata.channel_labels(source.channel_names, nc)
    colors = metadata.channel_colors(source.channel_colors, nc)
    planes = [np.concatenate(thumb_rows[c], axis=0) for c in range(nc)]
    (root / THUMBNAIL_NAME).write_bytes(
        thumbnail.render(planes, [s.window for s in summaries], colors, (ny, nx))
    )
    write_json(root / group_file(ngff), metadata.document(
        ngff=ngff, image_id=image_id, levels=len(shapes), physical=source.physical, labels=labels, colors=colors,
        summaries=summaries, dtype_name=str(store_dtype), tile=tile, size_z=nz, source_name=source.path.name,
        source_format=source.format, thumbnail=THUMBNAIL_NAME,
        absent=writer.absent_record() if isinstance(writer, ChunkWriter) else None,  # 0.5: the shard index says it
    ))
    return written, total, len(shapes)
