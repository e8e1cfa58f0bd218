"""`chromatile demo`: make a realistic sample image once, ingest it, and serve it with the viewer."""

from __future__ import annotations

import argparse
from pathlib import Path

from chromatile.commands.serve import add_server_options, serve_with_options
from chromatile.store import STORE_SUFFIX

SAMPLE_ID = "sample"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `demo` parser."""
    p = subparsers.add_parser("demo", help="build sample data if missing and serve it with the viewer")
    p.add_argument("--data", type=Path, default=Path("demo-data"),
                   help="folder for the sample store (default ./demo-data)")
    p.add_argument("--width", type=int, default=4096, help="sample width in pixels (default 4096)")
    p.add_argument("--height", type=int, default=4096, help="sample height in pixels (default 4096)")
    p.add_argument("--z", type=int, default=16, help="sample Z slices (default 16)")
    p.add_argument("--channels", type=int, default=3, help="sample channels (default 3)")
    add_server_options(p, port=8000)
    p.set_defaults(func=run)


def ensure_sample(data: Path, *, width: int, height: int, z: int, channels: int) -> str:
    """Write and ingest the sample unless DATA already holds it; returns its id."""
    from chromatile.ingest import ingest
    from chromatile.sample import write_sample

    data.mkdir(parents=True, exist_ok=True)
    if (data / f"{SAMPLE_ID}{STORE_SUFFIX}" / ".zattrs").is_file():
        return SAMPLE_ID
    sources = data / ".sources"  # hidden: never listed or served
    sources.mkdir(exist_ok=True)
    tif = sources / f"{SAMPLE_ID}.ome.tif"
    if not tif.is_file():
        print(f"writing a {width}x{height} sample, {channels} channels x {z} slices: {tif}", flush=True)
        write_sample(tif, width=width, height=height, z=z, channels=channels)
    print(f"ingesting {tif} into {data}", flush=True)
    ingest(tif, data, image_id=SAMPLE_ID, progress=True)
    return SAMPLE_ID


def run(args: argparse.Namespace) -> int:
    """Sample, then serve until Ctrl-C."""
    image_id = ensure_sample(args.data, width=args.width, height=args.height, z=args.z,
                             channels=args.channels)
    url = f"http://{'127.0.0.1' if args.host in ('0.0.0.0', '::') else args.host}:{args.port}"
    serve_with_options(args, args.data, on_ready=f"chromatile demo: open {url}/view/{image_id} "
                                                 f"(catalog: {url}/)")
    return 0
