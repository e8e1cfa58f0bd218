"""The single `chromatile` entry point: one subcommand per module in :mod:`chromatile.commands`."""

from __future__ import annotations

import argparse
import importlib
import sys

from chromatile import __version__
from chromatile.errors import UserError

# Each module defines `register(subparsers) -> None`, which adds its parser and sets `func`.
COMMANDS = ("ingest", "sample", "serve", "demo", "withdraw", "access", "publish")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(
        prog="chromatile",
        description="Serve very large multichannel microscopy images as raw tiles for a WebGL viewer.",
    )
    parser.add_argument("--version", action="version", version=f"chromatile {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        importlib.import_module(f"chromatile.commands.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand; user errors print one line and exit 2, never a traceback."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except UserError as exc:
        print(f"chromatile: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("chromatile: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
