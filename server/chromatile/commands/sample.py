"""`chromatile sample DEST`: write a synthetic multichannel Z-stack OME-TIFF."""

from __future__ import annotations

import argparse
from pathlib import Path

from chromatile.errors import BadRequest
from chromatile.sample import write_sample


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `sample` parser."""
    p = subparsers.add_parser(
        "sample",
        help="write a synthetic microscopy-like OME-TIFF (nuclei, membranes, filaments)",
        description="Write a synthetic uint16 multichannel Z-stack as a tiled OME-TIFF, generated tile by "
        "tile so any size costs no memory. DEST is a file path, or a directory that receives sample.ome.tif.",
    )
    p.add_argument("dest", metavar="DEST", help="output .ome.tif path or directory")
    p.add_argument("--width", type=int, default=2048, help="pixels (default 2048)")
    p.add_argument("--height", type=int, default=2048, help="pixels (default 2048)")
    p.add_argument("--z", type=int, default=16, help="Z slices (default 16)")
    p.add_argument("--channels", type=int, default=3, help="channels (default 3)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--compression", choices=("zlib", "zstd", "none"), default="zlib",
                   help="TIFF tile compression (default zlib)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Write the sample and print its path."""
    if min(args.width, args.height, args.z, args.channels) < 1:
        raise BadRequest("--width, --height, --z and --channels must be at least 1")
    dest = Path(args.dest)
    if dest.is_dir():
        dest = dest / "sample.ome.tif"
    if not dest.parent.is_dir():
        raise BadRequest(f"{dest.parent}: no such directory")
    try:
        path = write_sample(dest, width=args.width, height=args.height, z=args.z, channels=args.channels,
                            seed=args.seed, compression=None if args.compression == "none" else args.compression)
    except OSError as exc:
        raise BadRequest(f"{dest}: cannot write ({exc.strerror or exc})") from exc
    print(path)
    return 0
