"""Publish a DATA_DIR's images into OUT_DIR as a static site, updating only what changed.

OUT_DIR layout (the server's URL paths, so docs and habits carry over):

    index.html                 the catalog page (reads catalog.json)
    catalog.json               the image list, as the server's /api/images
    view/<id>/index.html       the viewer opened on one image
    viewer/viewer.css, viewer/dist/...   the viewer bundle
    data/<id>.ome.zarr/...     the stores (thumbnails inside), copied or hard-linked
    .nojekyll                  GitHub Pages: serve dot-files such as .zattrs
    .chromatile-publish.json   what was published from where (makes re-publishing incremental)

Order of an update, so that a publish that fails part-way never leaves a page pointing at files that
are not there: viewer bundle, then stores (a new store appears by one rename, a changed one file by
file with its metadata last), then the viewer pages, then the catalog, and only then are pages and
stores of images no longer published removed. The manifest is written last: after a failure the next
publish redoes every image whose update did not finish.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chromatile import purge
from chromatile.catalog import Catalog
from chromatile.config import default_webclient_dir
from chromatile.errors import UserError
from chromatile.publish import pages, tree
from chromatile.store import STORE_SUFFIX, DataDir, check_id
from chromatile.store.metadata import is_metadata_file
from chromatile.store.paths import HIDDEN_METADATA

MANIFEST = ".chromatile-publish.json"
MANIFEST_FORMAT = 1
# What OUT_DIR holds that publish manages besides data/ and view/.
SITE_FILES = ("index.html", pages.CATALOG_FILE, ".nojekyll", MANIFEST)
BASE_URL_RE = re.compile(r"(https?://[A-Za-z0-9.-]+(:\d+)?)?(/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*)?\Z")


@dataclass
class PublishReport:
    """What one publish did (ids sorted), for the command to print."""

    images: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped_withdrawn: list[str] = field(default_factory=list)
    skipped_private: list[str] = field(default_factory=list)
    skipped_unreadable: list[str] = field(default_factory=list)
    private_published: list[str] = field(default_factory=list)
    files_written: int = 0
    files_removed: int = 0
    bytes_written: int = 0
    seconds: float = 0.0
    purged: dict[str, str] = field(default_factory=dict)


class _DictCache:
    """The cache Catalog wants, for one run."""

    def __init__(self) -> None:
        self._values: dict[str, Any] = {}

    def get(self, key: str) -> Any:
        return self._values.get(key)

    def set(self, key: str, value: Any, timeout: int | None = None) -> None:
        self._values[key] = value


def check_base_url(base_url: str | None) -> str | None:
    """`--base-url` without its trailing slash: a path (/lab/images) or an http(s) URL."""
    if base_url is None:
        return None
    if not base_url or not BASE_URL_RE.match(base_url) or not (base_url.startswith("/") or "://" in base_url):
        raise UserError(f"--base-url {base_url!r} is not a URL path (/lab/images) or an http(s) URL "
                        "(https://example.org/images) without query or fragment")
    return base_url.rstrip("/")


def publish(data_dir: str | Path, out_dir: str | Path, *, ids: Sequence[str] | None = None,
            base_url: str | None = None, link: bool = False, include_private: bool = False,
            webclient_dir: Path | None = None, purge_command: str | None = None) -> PublishReport:
    """Make OUT_DIR a static site of DATA_DIR's publishable images (or of `ids`); see the module doc.

    Raises UserError, before OUT_DIR is touched, for an unknown, withdrawn or (without
    `include_private`) private id, a bad base URL, a missing viewer bundle, or an OUT_DIR that holds
    something else.
    """
    started = time.perf_counter()
    report = PublishReport()
    data = DataDir(data_dir)
    base = check_base_url(base_url)
    webclient = webclient_dir or default_webclient_dir()
    template = pages.read_template(webclient)
    out = _check_out_dir(Path(out_dir), data.real)
    if link and _device(out) != os.stat(data.real).st_dev:
        raise UserError(f"--link needs OUT_DIR on the same file system as DATA_DIR ({str(out)!r} is not): "
                        "drop --link to copy")
    catalog = Catalog(data, _DictCache())
    selected = _select(data, catalog, ids, include_private, report)

    out.mkdir(parents=True, exist_ok=True)
    lock = os.open(out, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UserError(f"another publish into {str(out)!r} is running") from None
        _update(data, selected, out, webclient, template, base, link, report)
    finally:
        os.close(lock)
    if purge_command:
        for image_id in report.removed + report.updated:
            report.purged[image_id] = purge.run(purge_command, image_id)
    report.images = list(selected)
    report.seconds = time.perf_counter() - started
    return report


def _device(path: Path) -> int:
    """File system of `path`, or of its nearest existing parent (OUT_DIR may not exist yet)."""
    while not path.exists():
        path = path.parent
    return os.stat(path).st_dev


def _check_out_dir(out: Path, data_real: str) -> Path:
    real = Path(os.path.realpath(out))
    data = Path(data_real)
    if real == data or data in real.parents or real in data.parents:
        raise UserError(f"OUT_DIR {str(out)!r} and DATA_DIR {data_real!r} overlap: publish elsewhere")
    if real.exists() and not real.is_dir():
        raise UserError(f"OUT_DIR {str(out)!r} exists and is not a directory")
    if real.is_dir() and any(real.iterdir()) and not (real / MANIFEST).is_file():
        raise UserError(f"OUT_DIR {str(out)!r} is not empty and was not written by chromatile publish: "
                        "choose a new or empty folder (publish removes files it did not write there)")
    return real


def _select(data: DataDir, catalog: Catalog, ids: Sequence[str] | None, include_private: bool,
            report: PublishReport) -> dict[str, dict[str, Any]]:
    """id -> catalog entry of every image to publish; refuses explicitly named ids it may not publish."""
    present = data.discover()
    listed = {e["id"]: e for e in catalog.listing(include_private=True)}
    explicit = ids is not None
    wanted = list(dict.fromkeys(ids)) if ids is not None else present
    selected: dict[str, dict[str, Any]] = {}
    for image_id in wanted:
        check_id(image_id)
        if image_id not in present:
            raise UserError(f"no image {image_id!r} in {str(data.root)!r}")
        state = data.state(*data.find(image_id).names)  # an alias carries its target's state
        if state.withdrawn:
            if explicit:
                raise UserError(f"image {image_id!r} is withdrawn: withdrawn images are never published")
            report.skipped_withdrawn.append(image_id)
            continue
        if state.private and not include_private:
            if explicit:
                raise UserError(f"image {image_id!r} is private and a static site cannot protect it: "
                                "leave it out, or give --include-private to publish it to anyone")
            report.skipped_private.append(image_id)
            continue
        try:
            summary = catalog.metadata(image_id)
            entry = listed[image_id]
        except (UserError, KeyError) as exc:
            reason = str(exc) if isinstance(exc, UserError) else "it vanished while being listed"
            if explicit:
                raise UserError(f"image {image_id!r} cannot be published: {reason}") from None
            report.skipped_unreadable.append(f"{image_id} ({reason})")
            continue
        if state.private:
            report.private_published.append(image_id)
        selected[image_id] = _entry(entry, summary.get("thumbnail"))
    return selected


def _entry(listed: dict[str, Any], thumbnail: str | None) -> dict[str, Any]:
    """A catalog.json entry: the server's /api/images entry, with URLs relative to catalog.json.

    `private` is false: on a static site every published image is readable by anyone (the catalog
    would otherwise badge it "only readable with a token").
    """
    store = f"data/{listed['id']}{STORE_SUFFIX}"
    return {
        **listed,
        "private": False,
        "store_url": store,
        "thumbnail_url": f"{store}/{thumbnail}" if thumbnail else None,
        "viewer_url": f"view/{listed['id']}/",
    }


def _fingerprint(store_real: str) -> str:
    """Changes whenever the store is replaced (ingest renames a new one in) or its metadata rewritten
    (temp file + rename changes the folder's mtime); our tools never edit chunks in place. Hashed: the
    manifest is served with the site and must not show the publishing machine's paths."""
    st = os.stat(store_real)
    return hashlib.sha256(f"{store_real}:{st.st_dev}:{st.st_ino}:{st.st_mtime_ns}".encode()).hexdigest()


def _keep(name: str) -> bool:
    """Names published from a store: Zarr's metadata and anything not hidden (no temp files)."""
    return not name.startswith(".") or name in HIDDEN_METADATA


def _read_manifest(out: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((out / MANIFEST).read_text())
    except FileNotFoundError:
        return {}
    except ValueError:
        return {}  # unreadable: every image is synced again (cheap when nothing changed)
    images = manifest.get("images") if isinstance(manifest, dict) else None
    return images if isinstance(images, dict) else {}


def _update(data: DataDir, selected: dict[str, dict[str, Any]], out: Path, webclient: Path,
            template: str, base: str | None, link: bool, report: PublishReport) -> None:
    tree.clean_leftovers(str(out))
    previous = _read_manifest(out)

    viewer = out / "viewer"
    _count(report, tree.sync_tree(str(webclient / "dist"), str(viewer / "dist"), link=False,
                                  keep=lambda name: not name.startswith(".")))
    css = (webclient / "viewer.css").read_bytes()
    _count_write(report, tree.write_bytes(str(viewer / "viewer.css"), css))

    manifest: dict[str, Any] = {}
    for image_id in selected:
        store_real = data.resolve_store(image_id)
        record: dict[str, Any] = {"fingerprint": _fingerprint(store_real), "link": link}
        dst = out / "data" / f"{image_id}{STORE_SUFFIX}"
        before = previous.get(image_id) or {}
        if all(before.get(k) == v for k, v in record.items()) and "size_bytes" in before and dst.is_dir():
            selected[image_id]["size_bytes"] = before["size_bytes"]
            manifest[image_id] = before
            continue
        if dst.is_dir():
            changes = tree.sync_tree(store_real, str(dst), link=link, keep=_keep,
                                     last=is_metadata_file)
            report.updated.append(image_id)
        else:
            tmp = out / "data" / f"{tree.TMP_PREFIX}{image_id}{STORE_SUFFIX}"
            changes = tree.sync_tree(store_real, str(tmp), link=link, keep=_keep)
            os.rename(tmp, dst)
            report.added.append(image_id)
        _count(report, changes)
        # the size the server lists is a walk of the store: here the sync just did that walk
        selected[image_id]["size_bytes"] = changes.total
        manifest[image_id] = {**record, "size_bytes": changes.total}

    for image_id, entry in selected.items():
        page = pages.viewer_page(template, base, image_id, entry["store_url"])
        _count_write(report, tree.write_bytes(str(out / "view" / image_id / "index.html"), page))
    _count_write(report, tree.write_bytes(str(out / pages.CATALOG_FILE),
                                          pages.catalog_json(list(selected.values()))))
    _count_write(report, tree.write_bytes(str(out / "index.html"), pages.catalog_page(template, base)))
    _count_write(report, tree.write_bytes(str(out / ".nojekyll"), b""))

    # pages before stores: no moment where a page of a removed image points at a missing store
    for folder, suffix in (("view", ""), ("data", STORE_SUFFIX)):
        root = out / folder
        if not root.is_dir():
            continue
        for entry_path in sorted(root.iterdir()):
            image_id = entry_path.name[: -len(suffix)] if suffix and entry_path.name.endswith(suffix) \
                else entry_path.name
            if image_id in selected and (not suffix or entry_path.name.endswith(suffix)):
                continue
            report.files_removed += tree.remove_tree(str(entry_path))
            if folder == "data" and image_id in previous and image_id not in report.removed:
                report.removed.append(image_id)

    body = json.dumps({"format": MANIFEST_FORMAT, "images": manifest}, indent=1, sort_keys=True) + "\n"
    tree.write_bytes(str(out / MANIFEST), body.encode())


def _count(report: PublishReport, changes: tree.TreeChanges) -> None:
    report.files_written += changes.written
    report.files_removed += changes.removed
    report.bytes_written += changes.bytes


def _count_write(report: PublishReport, written: bool) -> None:
    if written:
        report.files_written += 1
