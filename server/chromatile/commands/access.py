"""`chromatile private|public DATA_DIR ID` and `chromatile sign DATA_DIR ID --expires S`."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from chromatile import access
from chromatile.commands.withdraw import run_purge_hook
from chromatile.config import Settings
from chromatile.errors import UserError
from chromatile.store import DataDir, check_id


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `private`, `public` and `sign` parsers."""
    for name, helptext, func in (
        ("private", "make an image readable only with a token (and hide it from the catalog)", run_private),
        ("public", "make a private image public again", run_public),
    ):
        p = subparsers.add_parser(name, help=helptext)
        p.add_argument("data_dir", metavar="DATA_DIR", type=Path)
        p.add_argument("image_id", metavar="ID")
        p.set_defaults(func=func)
    p = subparsers.add_parser(
        "sign", help="print a signed URL token that lets its holder read one (private) image",
        description="Print a token for ?token=... on every URL of the image. The key is "
                    "CHROMATILE_SIGNING_SECRET, else DATA_DIR/.chromatile/secret (made on first use).")
    p.add_argument("data_dir", metavar="DATA_DIR", type=Path)
    p.add_argument("image_id", metavar="ID")
    p.add_argument("--expires", type=int, default=3600, help="seconds until it expires (default 3600)")
    p.set_defaults(func=run_sign)


def run_private(args: argparse.Namespace) -> int:
    """Mark private (and purge public copies downstream)."""
    settings = Settings.from_env(data_dir=args.data_dir)
    changed = DataDir(settings.data_dir).set_private(args.image_id, True)
    print(f"{args.image_id} is private" + ("" if changed else " (it already was)"))
    run_purge_hook(settings, "private", args.image_id, changed=changed)
    return 0


def run_public(args: argparse.Namespace) -> int:
    """Unmark private."""
    changed = DataDir(args.data_dir).set_private(args.image_id, False)
    print(f"{args.image_id} is public" + ("" if changed else " (it already was)"))
    return 0


def run_sign(args: argparse.Namespace) -> int:
    """Print the token on stdout alone, so scripts can capture it."""
    if args.expires <= 0:
        raise UserError(f"--expires must be a positive number of seconds, not {args.expires}")
    settings = Settings.from_env(data_dir=args.data_dir)
    data = DataDir(settings.data_dir)
    check_id(args.image_id)
    data.find(args.image_id)
    configured = settings.signing_secret
    secret = configured.encode() if configured else data.signing_secret(create=True)
    if secret is None:
        raise UserError("no signing secret could be made in DATA_DIR/.chromatile")
    print(access.sign(secret, args.image_id, int(time.time()) + args.expires))
    return 0
