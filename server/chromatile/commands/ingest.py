"""`chromatile ingest SRC DEST_DIR`: convert a TIFF (or folder of slices) into an OME-Zarr pyramid."""

from __future__ import annotations

import argparse
import json
import re
import signal
import sys
import threading

from chromatile.ingest import ingest
from chromatile.ingest.compression import COMPRESSIONS, DEFAULT_COMPRESSION, DEFAULT_TILE
from chromatile.ingest.convert import parse_rescale
from chromatile.ingest.shardwriter import DEFAULT_SHARD


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `ingest` parser."""
    p = subparsers.add_parser(
        "ingest",
        help="convert a TIFF, a folder of per-slice TIFFs or an OME-Zarr into DEST_DIR/<id>.ome.zarr",
        description="Convert an OME-TIFF (incl. pyramidal), ImageJ hyperstack, plain TIFF, a folder of "
        "per-slice TIFFs or an OME-Zarr image (0.4 or 0.5) into an OME-Zarr pyramid DEST_DIR/<id>.ome.zarr "
        "(0.4, or 0.5 with --ngff 0.5), written atomically.",
    )
    p.add_argument("src", metavar="SRC",
                   help="TIFF file, folder of per-slice TIFFs (natural sort order), or OME-Zarr image folder")
    p.add_argument("dest_dir", metavar="DEST_DIR", help="directory that receives <id>.ome.zarr")
    p.add_argument("--id", dest="image_id", help="store id (default: from the SRC name)")
    p.add_argument("--tile", type=int, default=DEFAULT_TILE, help=f"tile (chunk) size in pixels (default {DEFAULT_TILE})")
    p.add_argument("--compression", choices=COMPRESSIONS, default=DEFAULT_COMPRESSION,
                   help=f"chunk compression (default {DEFAULT_COMPRESSION})")
    p.add_argument("--ngff", choices=("0.4", "0.5"), default="0.4",
                   help="OME-Zarr version: 0.4 (Zarr v2, one file per tile; default) or 0.5 (Zarr v3, sharded)")
    p.add_argument("--shard", type=int, default=None, metavar="N",
                   help=f"with --ngff 0.5: shard side in pixels, a multiple of --tile (default {DEFAULT_SHARD})")
    p.add_argument("--workers", type=int, default=None, help="threads for decode/downsample/encode (default: all cores)")
    p.add_argument("--rescale", metavar="LO,HI", type=str, default=None,
                   help="map source values LO..HI linearly onto uint16 0..65535 (needed for int16, uint32, float)")
    # argparse takes any word starting with "-" that is not a plain number for an option, so
    # `--rescale -1000,1000` (as docs/ingest.md writes it) would fail: let LO,HI pairs count as numbers.
    p._negative_number_matcher = re.compile(
        r"^-\d+$|^-\d*\.\d+$|^-(\d+\.?\d*|\.\d+)(e[-+]?\d+)?,-?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$", re.IGNORECASE)
    p.add_argument("--overwrite", action="store_true", help="replace an existing store of the same id (atomic swap)")
    p.add_argument("--quiet", action="store_true", help="no progress bar and no summary line")
    p.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    p.set_defaults(func=run)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # SIGTERM cleans up like Ctrl-C: the partial store is removed


def run(args: argparse.Namespace) -> int:
    """Run one ingest; errors surface as UserError (exit 2)."""
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _interrupt) if main_thread else None
    try:
        result = ingest(
            args.src, args.dest_dir, image_id=args.image_id, tile=args.tile, compression=args.compression,
            workers=args.workers, overwrite=args.overwrite, ngff=args.ngff, shard=args.shard,
            progress=not args.quiet and not args.json and sys.stderr.isatty(),
            rescale=parse_rescale(args.rescale) if args.rescale is not None else None,
        )
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous)
    if args.json:
        print(json.dumps(result.summary()))
    elif not args.quiet:
        t, c, z, y, x = result.shape
        print(f"{result.store_path}: {x}x{y} px, {c} channel(s), {z} z, {t} t, {result.dtype}, "
              f"{result.levels} levels, {result.pixel_size()}, {result.seconds:.1f} s")
    if not args.quiet:
        for line in result.warnings:
            print(f"chromatile: warning: {line}", file=sys.stderr)
    return 0
