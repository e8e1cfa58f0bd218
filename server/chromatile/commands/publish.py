"""`chromatile publish DATA_DIR OUT_DIR`: write the public images as a static site (docs/publishing.md)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from chromatile.publish import PublishReport, publish


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `publish` parser."""
    p = subparsers.add_parser(
        "publish", help="write the images as a static site any web server, bucket or CDN can serve",
        description="Write OUT_DIR: a catalog page, one viewer page per image, the viewer and the stores, "
                    "for a plain static host (no chromatile server). Publishing again updates only what "
                    "changed and removes what is no longer published. Withdrawn images are never "
                    "published; private ones only with --include-private.")
    p.add_argument("data_dir", metavar="DATA_DIR", type=Path)
    p.add_argument("out_dir", metavar="OUT_DIR", type=Path)
    p.add_argument("--id", dest="ids", metavar="ID", action="append",
                   help="publish only this image; repeat for more (the site then holds exactly them); "
                        "default: every image that is neither withdrawn nor private")
    p.add_argument("--base-url", metavar="URL",
                   help="absolute URL or path where OUT_DIR will be served (e.g. /lab/images); "
                        "default: relative URLs, which work under any prefix")
    p.add_argument("--link", action="store_true",
                   help="hard-link the stores' files instead of copying them (same file system only)")
    p.add_argument("--include-private", action="store_true",
                   help="publish private images too: a static host serves them to anyone")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Publish, then say what changed, how long it took, and what was left out."""
    report = publish(args.data_dir, args.out_dir, ids=args.ids, base_url=args.base_url, link=args.link,
                     include_private=args.include_private,
                     purge_command=os.environ.get("CHROMATILE_PURGE_COMMAND") or None)
    print_report(report, args.out_dir)
    failed = [i for i, outcome in report.purged.items() if outcome != "ok"]
    return 1 if failed else 0


def print_report(report: PublishReport, out_dir: Path) -> None:
    """The summary on stdout; warnings and notes on stderr."""
    err = sys.stderr
    if report.private_published:
        bar = "!" * 78
        print(f"{bar}\nWARNING: published PRIVATE image(s) {', '.join(report.private_published)}.\n"
              "A static host cannot protect them: anyone who has or guesses the URL can read every "
              f"tile.\n{bar}", file=err)
    if report.skipped_withdrawn:
        print(f"not published (withdrawn): {', '.join(report.skipped_withdrawn)}", file=err)
    if report.skipped_private:
        print(f"not published (private; --include-private publishes them to anyone): "
              f"{', '.join(report.skipped_private)}", file=err)
    for note in report.skipped_unreadable:
        print(f"not published (unreadable): {note}", file=err)
    unchanged = len(report.images) - len(report.added) - len(report.updated)
    print(f"published {len(report.images)} image(s) to {out_dir}: {len(report.added)} added, "
          f"{len(report.updated)} updated, {len(report.removed)} removed, {unchanged} unchanged; "
          f"{report.files_written} file(s) written ({report.bytes_written / 1e6:.1f} MB), "
          f"{report.files_removed} removed, in {report.seconds:.2f} s")
    for name, ids in (("added", report.added), ("updated", report.updated), ("removed", report.removed)):
        if ids:
            print(f"  {name}: {', '.join(ids)}")
    for image_id, outcome in report.purged.items():
        print(f"purge hook for {image_id}: {outcome}", file=err if outcome != "ok" else sys.stdout)
