"""Incremental copy (or hard-link) of one folder tree into another, one atomic rename per file.

A file is only rewritten when it differs from its source (size and mtime for copies, inode for links),
so re-publishing an unchanged store costs one stat per file. Each new file is written under a hidden
temporary name and renamed into place, so a reader never sees a partly written file.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from chromatile.errors import UserError

TMP_PREFIX = ".publish-tmp-"


@dataclass
class TreeChanges:
    """What one sync did."""

    written: int = 0
    removed: int = 0
    bytes: int = 0
    total: int = 0  # bytes of every file the tree holds now


def walk_files(root: str, keep: Callable[[str], bool]) -> Iterator[tuple[str, os.stat_result]]:
    """(relative path, stat) of every regular file under `root` whose name `keep` accepts; symlinks and
    other special files are never followed or published."""
    stack = [""]
    while stack:
        rel_dir = stack.pop()
        with os.scandir(os.path.join(root, rel_dir)) as entries:
            for entry in entries:
                if not keep(entry.name):
                    continue
                rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
                if entry.is_dir(follow_symlinks=False):
                    stack.append(rel)
                elif entry.is_file(follow_symlinks=False):
                    yield rel, entry.stat(follow_symlinks=False)


def same_file(src: os.stat_result, dst: os.stat_result, link: bool) -> bool:
    """Whether a published file already holds its source: the same inode when linking; when copying,
    the same size and mtime (copies keep the source's mtime) in a different inode."""
    same_inode = (src.st_ino, src.st_dev) == (dst.st_ino, dst.st_dev)
    if link:
        return same_inode
    return not same_inode and src.st_size == dst.st_size and src.st_mtime_ns == dst.st_mtime_ns


def place_file(src: str, dst: str, link: bool) -> None:
    """Put `src` at `dst` by one rename of a hidden temporary copy or link in `dst`'s folder."""
    folder = os.path.dirname(dst)
    os.makedirs(folder, exist_ok=True)
    tmp = os.path.join(folder, f"{TMP_PREFIX}{os.getpid()}-{os.path.basename(dst)}")
    try:
        if link:
            try:
                os.link(src, tmp)
            except OSError as exc:
                if exc.errno == errno.EXDEV:
                    raise UserError(f"--link needs OUT_DIR on the same file system as DATA_DIR "
                                    f"(cannot hard-link {src!r}): drop --link to copy") from None
                raise
        else:
            shutil.copy2(src, tmp)
            os.chmod(tmp, 0o644)
        os.replace(tmp, dst)
    except BaseException:
        _unlink(tmp)
        raise


def sync_tree(src_root: str, dst_root: str, *, link: bool, keep: Callable[[str], bool],
              last: Callable[[str], bool] = lambda rel: False) -> TreeChanges:
    """Make `dst_root` hold exactly the files of `src_root` that `keep` accepts.

    Files for which `last(rel)` is true (metadata) are placed after all others, and files no longer in
    the source are removed only after that, so a reader following the metadata finds every file it
    names at each moment.
    """
    changes = TreeChanges()
    wanted: set[str] = set()
    deferred: list[tuple[str, os.stat_result]] = []
    for rel, st in walk_files(src_root, keep):
        wanted.add(rel)
        changes.total += st.st_size
        if last(rel):
            deferred.append((rel, st))
        else:
            _sync_one(src_root, dst_root, rel, st, link, changes)
    for rel, st in deferred:
        _sync_one(src_root, dst_root, rel, st, link, changes)
    if os.path.isdir(dst_root):
        stale = [rel for rel, _ in walk_files(dst_root, lambda name: True) if rel not in wanted]
        for rel in stale:
            _unlink(os.path.join(dst_root, rel))
            changes.removed += 1
        _remove_empty_dirs(dst_root)
    return changes


def _sync_one(src_root: str, dst_root: str, rel: str, st: os.stat_result, link: bool,
              changes: TreeChanges) -> None:
    dst = os.path.join(dst_root, rel)
    try:
        if same_file(st, os.stat(dst, follow_symlinks=False), link):
            return
    except FileNotFoundError:
        pass
    place_file(os.path.join(src_root, rel), dst, link)
    changes.written += 1
    changes.bytes += st.st_size


def _remove_empty_dirs(root: str) -> None:
    for folder, _dirs, _files in os.walk(root, topdown=False):
        if folder != root:
            with contextlib.suppress(OSError):  # not empty
                os.rmdir(folder)


def remove_tree(path: str) -> int:
    """Remove a folder (or file) so that it disappears under its name at once: renamed aside first,
    then deleted. Returns how many files it held."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return 0
    if not stat.S_ISDIR(st.st_mode):
        _unlink(path)
        return 1
    aside = os.path.join(os.path.dirname(path), f"{TMP_PREFIX}gone-{os.getpid()}-{os.path.basename(path)}")
    os.rename(path, aside)
    count = sum(len(files) for _dir, _dirs, files in os.walk(aside))
    shutil.rmtree(aside)
    return count


def write_bytes(path: str, data: bytes) -> bool:
    """Write `data` at `path` by temp file + rename unless it already holds exactly that; True if written."""
    try:
        with open(path, "rb") as f:
            if f.read() == data:
                return False
    except FileNotFoundError:
        pass
    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    tmp = os.path.join(folder, f"{TMP_PREFIX}{os.getpid()}-{os.path.basename(path)}")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        _unlink(tmp)
        raise
    return True


def clean_leftovers(root: str, depth: int = 2) -> None:
    """Remove temporary files and folders a crashed publish left in `root` and `depth` levels below.

    Deeper leftovers can only sit inside a store whose update did not finish, which the next publish
    syncs again (its manifest entry was not written), removing them.
    """
    try:
        entries = list(os.scandir(root))
    except FileNotFoundError:
        return
    for entry in entries:
        if entry.name.startswith(TMP_PREFIX):
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                _unlink(entry.path)
        elif depth > 0 and entry.is_dir(follow_symlinks=False):
            clean_leftovers(entry.path, depth - 1)


def _unlink(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
