"""The DATA_DIR's own HMAC key of signed URL tokens: `DATA_DIR/.chromatile/secret`, made on first use."""

from __future__ import annotations

import os
import secrets

from chromatile.errors import Unavailable


def read_secret(state_dir: str, *, create: bool = False) -> bytes | None:
    """The key, None if there is none and not `create`; made (0600) on first use when `create`.

    Unavailable when the key exists but cannot be read (a folder, permissions, `.chromatile` a file):
    tokens are then refused with a clear 503, never accepted against some other key.
    """
    path = os.path.join(state_dir, "secret")
    try:
        with open(path, "rb") as f:
            key = f.read().strip()
        if not key:
            raise Unavailable("the signing secret DATA_DIR/.chromatile/secret is empty")
        return key
    except FileNotFoundError:
        if not create:
            return None
    except OSError as exc:
        raise Unavailable("the signing secret DATA_DIR/.chromatile/secret cannot be read "
                          f"({os.strerror(exc.errno or 0) or type(exc).__name__})") from None
    key = secrets.token_hex(32).encode()
    try:
        os.makedirs(state_dir, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return read_secret(state_dir)
    except OSError as exc:
        raise Unavailable("cannot create the signing secret DATA_DIR/.chromatile/secret "
                          f"({os.strerror(exc.errno or 0) or type(exc).__name__})") from None
    with os.fdopen(fd, "wb") as f:
        f.write(key)
    return key
