"""What every handler needs, built once per app (no globals)."""

from __future__ import annotations

from dataclasses import dataclass

from chromatile.catalog import Catalog
from chromatile.config import Settings
from chromatile.store import DataDir


@dataclass
class Services:
    """Settings, the DATA_DIR and its catalog of one app."""

    settings: Settings
    data: DataDir
    catalog: Catalog
    url_prefix: str = ""

    @property
    def readers(self) -> tuple[str, ...]:
        """Bearer tokens that may read private images."""
        admin = (self.settings.admin_token,) if self.settings.admin_token else ()
        return admin + tuple(self.settings.read_tokens)

    def secret(self) -> bytes | None:
        """HMAC key of URL tokens: configured, else the DATA_DIR's own (read now: it may be new)."""
        if self.settings.signing_secret:
            return self.settings.signing_secret.encode()
        return self.data.signing_secret()
