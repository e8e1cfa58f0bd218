"""`chromatile withdraw DATA_DIR ID` / `chromatile restore DATA_DIR ID`: stop/resume serving an image.

A running server (every worker process) answers 410 from the next request on: the state is a marker
file in DATA_DIR/.chromatile/withdrawn/ that the server stats on every request.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from chromatile import purge
from chromatile.config import Settings
from chromatile.errors import UserError
from chromatile.store import DataDir


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `withdraw` and `restore` parsers."""
    p = subparsers.add_parser("withdraw", help="stop serving an image at once (410 on every URL of it)")
    p.add_argument("data_dir", metavar="DATA_DIR", type=Path)
    p.add_argument("image_id", metavar="ID")
    p.add_argument("--reason", default="", help="why (shown in the 410 answer)")
    p.set_defaults(func=run_withdraw)
    p = subparsers.add_parser("restore", help="serve a withdrawn image again")
    p.add_argument("data_dir", metavar="DATA_DIR", type=Path)
    p.add_argument("image_id", metavar="ID")
    p.set_defaults(func=run_restore)


def run_withdraw(args: argparse.Namespace) -> int:
    """Mark the image withdrawn, then run the CDN purge hook if one is configured."""
    settings = Settings.from_env(data_dir=args.data_dir)
    DataDir(settings.data_dir).withdraw(args.image_id, args.reason)
    print(f"withdrew {args.image_id}: every URL of it now answers 410")
    run_purge_hook(settings, "withdraw", args.image_id, changed=True)
    return 0


def run_restore(args: argparse.Namespace) -> int:
    """Remove the withdrawn mark."""
    data = DataDir(args.data_dir)
    if not data.restore(args.image_id):
        raise UserError(f"image {args.image_id!r} is not withdrawn in {str(args.data_dir)!r}")
    print(f"restored {args.image_id}")
    return 0


def run_purge_hook(settings: Settings, action: str, image_id: str, *, changed: bool) -> None:
    """The purge hook when :func:`purge.wanted` says so, waited for; a failure is an error (downstream
    caches may still serve the image)."""
    command = settings.purge_command
    if command and purge.wanted(action, changed, command):
        outcome = purge.run(command, image_id)
        if outcome != "ok":
            raise UserError(f"purge command for {image_id!r} {outcome}")
        print(f"purge hook: {outcome}")
