"""The host recipes of docs/publishing.md, run: nginx cache headers, and one publish at a time."""

from __future__ import annotations

import fcntl
import os
import re
from collections.abc import Callable
from pathlib import Path

from publish_helpers import REPO, header, run_publish


def docs_nginx_block() -> str:
    """The ```nginx block of docs/publishing.md, as a reader would copy it."""
    text = (REPO / "docs/publishing.md").read_text()
    match = re.search(r"```nginx\n(.*?)```", text, re.S)
    assert match, "docs/publishing.md lost its nginx cache-header block"
    return match.group(1)


def test_cache_header_recipe(data_dir: Path, tmp_path: Path, static_hosts: Callable[..., str]) -> None:
    out = tmp_path / "site"
    assert run_publish(data_dir, out).code == 0
    site = static_hosts("nginx", out, docs_nginx_block())
    immutable = "public, max-age=31536000, immutable"
    assert header(site, "data/public.ome.zarr/0/0/0/0/0/0", "Cache-Control") == immutable
    assert header(site, "data/public.ome.zarr/1/0/1/0/0/0", "Cache-Control") == immutable
    for short in ("data/public.ome.zarr/.zattrs", "data/public.ome.zarr/.zgroup", "data/public.ome.zarr/0/.zarray",
                  "data/public.ome.zarr/thumbnail.png", "", "catalog.json", "view/public/",
                  "viewer/dist/chromatile.js", "viewer/viewer.css"):
        assert header(site, short, "Cache-Control") == "no-cache", short


def test_one_publish_at_a_time(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    assert run_publish(data_dir, out).code == 0
    fd = os.open(out, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # as a publish in progress holds it
        run = run_publish(data_dir, out)
        assert run.code == 2 and f"another publish into {str(out)!r} is running" in run.err
    finally:
        os.close(fd)
    assert run_publish(data_dir, out).code == 0
