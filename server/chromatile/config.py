"""Server settings: one typed object, built from arguments or from `CHROMATILE_*` environment variables."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import chromatile
from chromatile.errors import UserError

ENV_PREFIX = "CHROMATILE_"
# flask-caching backends we configure and test: per process, shared through Redis, or none.
CACHE_TYPES = ("SimpleCache", "RedisCache", "NullCache")


def default_webclient_dir() -> Path:
    """The built viewer inside the package (`npm run build` writes it; wheels carry it)."""
    return Path(chromatile.__file__).resolve().parent / "static"


@dataclass(frozen=True)
class Settings:
    """Everything the server can be told; every field has an environment variable `CHROMATILE_<FIELD>`."""

    data_dir: Path
    # Bearer token of the admin endpoints (withdraw/restore/defaults); None disables them.
    admin_token: str | None = None
    # Extra bearer tokens that may read private images (the admin token always may).
    read_tokens: tuple[str, ...] = ()
    # HMAC secret of signed URL tokens; None: DATA_DIR/.chromatile/secret (made by `chromatile sign`).
    signing_secret: str | None = None
    # "*" or a comma-separated list of allowed origins.
    cors_origins: str = "*"
    # flask-caching backend of parsed metadata: SimpleCache (per process, no service), RedisCache
    # (shared by every process and host, needs cache_redis_url) or NullCache (no caching).
    cache_type: str = "SimpleCache"
    cache_redis_url: str | None = None
    cache_timeout: int = 3600
    webclient_dir: Path = field(default_factory=default_webclient_dir)
    # Requests one process handles at once; beyond it, wait `acquire_timeout` s, then 503 + Retry-After.
    max_concurrency: int = 64
    acquire_timeout: float = 2.0
    retry_after: int = 1
    # How often (ms) the list of stores in DATA_DIR is re-read at most, besides on its mtime changing.
    rescan_interval_ms: int = 1000
    # Cache-Control max-age of metadata files and JSON (they can change: defaults, withdrawal).
    metadata_max_age: int = 0
    # If set, chunk responses carry `s-maxage` so shared caches (CDN) revalidate after this many seconds
    # while browsers keep tiles for a year; bounds how long a withdrawn image survives in a CDN.
    shared_max_age: int | None = None
    # Command run (no shell) after withdraw/private, with {id} replaced: e.g. a CDN purge call.
    purge_command: str | None = None
    # If set, store files are answered with `X-Accel-Redirect: <prefix><id>.ome.zarr/<path>` for nginx.
    x_accel_prefix: str | None = None
    # Adds `X-Chromatile-Worker: <pid>` to responses (debugging multi-process deployments).
    debug_headers: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "data_dir", Path(self.data_dir))
        object.__setattr__(self, "webclient_dir", Path(self.webclient_dir))
        tokens: object = self.read_tokens  # a comma-separated str from the environment or a mapping
        if isinstance(tokens, str):
            object.__setattr__(self, "read_tokens", _split(tokens))
        if self.cache_type not in CACHE_TYPES:
            raise UserError(f"cache_type {self.cache_type!r} is not one of {', '.join(CACHE_TYPES)}")
        if self.cache_type == "RedisCache" and not self.cache_redis_url:
            raise UserError("cache_type RedisCache needs cache_redis_url (CHROMATILE_CACHE_REDIS_URL)")
        if self.max_concurrency < 1:
            raise UserError(f"max_concurrency must be >= 1, not {self.max_concurrency}")

    @property
    def origins(self) -> tuple[str, ...]:
        """`cors_origins` split into its entries (may contain "*")."""
        return _split(self.cors_origins)

    def replace(self, **changes: Any) -> Settings:
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> Settings:
        """Settings from a mapping of field names; unknown names are an error (typos must not pass)."""
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise UserError(f"unknown setting(s): {', '.join(unknown)}")
        if "data_dir" not in values:
            raise UserError("setting data_dir is required (CHROMATILE_DATA_DIR)")
        return cls(**values)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Settings from `CHROMATILE_*` variables, with keyword overrides winning."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = environ.get(ENV_PREFIX + f.name.upper())
            if raw is not None and raw != "":
                values[f.name] = _parse(f.name, str(f.type), raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls.from_mapping(values)


def settings_env(settings: Settings) -> dict[str, str]:
    """`CHROMATILE_*` variables that :meth:`Settings.from_env` turns back into `settings`.

    How `chromatile serve` hands its settings to worker processes, which build their own app.
    """
    env: dict[str, str] = {}
    for f in fields(settings):
        value = getattr(settings, f.name)
        if value is None:
            continue
        if isinstance(value, bool):
            value = "1" if value else "0"
        elif isinstance(value, tuple):
            value = ",".join(value)
        env[ENV_PREFIX + f.name.upper()] = str(value)
    return env


def load_settings(config: Settings | Mapping[str, Any] | None) -> Settings:
    """Accept what `create_app` accepts: Settings, a mapping of field names, or None (environment)."""
    if isinstance(config, Settings):
        return config
    if config is None:
        return Settings.from_env()
    return Settings.from_mapping(config)


def _split(raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.split(",") if part.strip())


def _parse(name: str, type_name: str, raw: str) -> Any:
    """Turn an environment string into the field's type (annotations are strings here)."""
    env = ENV_PREFIX + name.upper()
    try:
        if type_name.startswith("bool"):
            if raw.lower() in ("1", "true", "yes", "on"):
                return True
            if raw.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(raw)
        if type_name.startswith("int"):
            return int(raw)
        if type_name.startswith("float"):
            return float(raw)
        if type_name.startswith("tuple"):
            return _split(raw)
        if type_name.startswith("Path"):
            return Path(raw)
    except ValueError:
        raise UserError(f"{env}={raw!r} is not a valid {type_name.split(' ')[0]}") from None
    return raw
