"""Per-image state kept beside the pixels: withdrawn and private markers in `DATA_DIR/.chromatile/`.

    withdrawn/<id>   JSON {"reason": ..., "at": ...}: the image must not be served
    private/<id>     empty: the image needs a token

Markers are stat-ed on every request, never cached, so `chromatile withdraw` takes effect in every
worker process on the next request. A marker is its existence: any content (even garbage, even a
folder) keeps the image withdrawn; the reason is a courtesy read only for the error message. When the
state cannot be read for a reason other than "no marker" (permissions, a loop), the answer is
:class:`Unavailable`, never "not withdrawn".
"""

from __future__ import annotations

import errno
import json
import os
import time
from dataclasses import dataclass

from chromatile.errors import Unavailable
from chromatile.store.fsio import atomic_write, list_names, read_json, remove

# stat errors that mean "there is no marker" (missing file, or a path component that is no folder)
ABSENT = (errno.ENOENT, errno.ENOTDIR)


@dataclass(frozen=True)
class ImageState:
    """Withdrawn/private flags of one image, read from marker files."""

    withdrawn: bool
    private: bool


class Markers:
    """The withdrawn/private markers of one DATA_DIR (`state_dir` is its `.chromatile`)."""

    def __init__(self, state_dir: str) -> None:
        self.state_dir = state_dir
        self.withdrawn_dir = os.path.join(state_dir, "withdrawn")
        self.private_dir = os.path.join(state_dir, "private")

    def state(self, *image_ids: str) -> ImageState:
        """Flags of an image known under `image_ids` (its name and, for an alias, its target's name):
        withdrawn or private if any of them is. Read from disk now, two stats per id."""
        withdrawn = private = False
        for image_id in image_ids:
            # string concatenation, not os.path.join: this runs on every request (ids are checked)
            withdrawn = withdrawn or _exists(self.withdrawn_dir + os.sep + image_id)
            private = private or _exists(self.private_dir + os.sep + image_id)
        return ImageState(withdrawn=withdrawn, private=private)

    def reason(self, *image_ids: str) -> str:
        """The recorded withdrawal reason of the first withdrawn id ("" if none could be read)."""
        for image_id in image_ids:
            try:
                body = read_json(os.path.join(self.withdrawn_dir, image_id))
            except (OSError, ValueError, RecursionError):
                continue
            reason = body.get("reason") if isinstance(body, dict) else None
            if isinstance(reason, str):
                return reason[:500]
        return ""

    def withdraw(self, image_id: str, reason: str = "") -> None:
        """Write the withdrawn marker of `image_id` (the caller checked the store exists)."""
        body = json.dumps({"reason": reason, "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
        self._write(os.path.join(self.withdrawn_dir, image_id), body.encode())

    def restore(self, image_id: str) -> bool:
        """Remove the withdrawn marker; False if there was none."""
        return self._remove(os.path.join(self.withdrawn_dir, image_id))

    def set_private(self, image_id: str, private: bool) -> bool:
        """Write or remove the private marker; False if nothing changed."""
        marker = os.path.join(self.private_dir, image_id)
        if not private:
            return self._remove(marker)
        if _exists(marker):
            return False
        self._write(marker, b"")
        return True

    def withdrawn_ids(self) -> set[str]:
        """Names with a withdrawn marker (Unavailable if the folder cannot be read)."""
        return self._names(self.withdrawn_dir)

    def private_ids(self) -> set[str]:
        """Names with a private marker (Unavailable if the folder cannot be read)."""
        return self._names(self.private_dir)

    def _names(self, folder: str) -> set[str]:
        try:
            return set(list_names(folder))
        except OSError as exc:
            raise Unavailable("the images' state in DATA_DIR/.chromatile cannot be read "
                              f"({os.strerror(exc.errno or 0) or type(exc).__name__})") from None

    def _write(self, path: str, data: bytes) -> None:
        try:
            atomic_write(path, data)
        except OSError as exc:
            raise Unavailable(f"cannot write the image's state in DATA_DIR/.chromatile "
                              f"({os.strerror(exc.errno or 0) or type(exc).__name__})") from None

    def _remove(self, path: str) -> bool:
        try:
            return remove(path)
        except NotADirectoryError:
            return False
        except OSError as exc:
            raise Unavailable(f"cannot change the image's state in DATA_DIR/.chromatile "
                              f"({os.strerror(exc.errno or 0) or type(exc).__name__})") from None


def _exists(path: str) -> bool:
    """Whether a marker is there; Unavailable if that cannot be known."""
    try:
        os.stat(path)
        return True
    except OSError as exc:
        if exc.errno in ABSENT:
            return False
        raise Unavailable("the image's state in DATA_DIR/.chromatile cannot be read "
                          f"({os.strerror(exc.errno or 0) or type(exc).__name__})") from None
