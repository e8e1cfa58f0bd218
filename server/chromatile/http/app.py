"""The app factory: settings in, a Flask app (or a blueprint on your app) out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, request
from flask_caching import Cache

from chromatile.catalog import Catalog
from chromatile.config import Settings, load_settings
from chromatile.handlers.services import Services
from chromatile.http.errors import register_errors
from chromatile.http.fastpath import ChunkFastPath
from chromatile.http.guard import ConcurrencyGuard
from chromatile.http.routes import add_cors, build_blueprint
from chromatile.store import DataDir

MAX_BODY = 1 << 20


def cache_config(settings: Settings) -> dict[str, Any]:
    """flask-caching configuration from our settings (Redis is one value away)."""
    config: dict[str, Any] = {"CACHE_TYPE": settings.cache_type,
                              "CACHE_DEFAULT_TIMEOUT": settings.cache_timeout,
                              "CACHE_KEY_PREFIX": "chromatile:"}
    if settings.cache_type == "SimpleCache":
        config["CACHE_THRESHOLD"] = 2000
    if settings.cache_type == "RedisCache":
        config["CACHE_REDIS_URL"] = settings.cache_redis_url
    return config


def init_app(app: Flask, config: Settings | Mapping[str, Any] | None = None,
             url_prefix: str = "") -> Services:
    """Add chromatile's routes to an existing Flask app (under `url_prefix`); returns its services."""
    settings = load_settings(config)
    cache = Cache(config=cache_config(settings))
    cache.init_app(app)
    data = DataDir(settings.data_dir)
    svc = Services(settings=settings, data=data,
                   catalog=Catalog(data, cache, rescan_interval_ms=settings.rescan_interval_ms),
                   url_prefix=url_prefix.rstrip("/"))
    app.register_blueprint(build_blueprint(svc), url_prefix=svc.url_prefix or None)
    app.extensions["chromatile"] = svc
    return svc


def create_app(config: Settings | Mapping[str, Any] | None = None) -> Flask:
    """A standalone app serving one DATA_DIR; `config` as in :func:`chromatile.config.load_settings`."""
    app = Flask("chromatile", static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY
    app.json.sort_keys = False  # type: ignore[attr-defined]  # keep the documented field order
    # `//` in a URL must not be merged into a redirect: it is refused like any malformed path
    app.url_map.merge_slashes = False
    app.url_map.strict_slashes = False
    svc = init_app(app, config)
    origins = svc.settings.origins

    @app.after_request
    def cors_everywhere(response: Response) -> Response:
        if request.blueprint is None:  # the blueprint's own responses already have it
            add_cors(response, origins)
        return response

    register_errors(app)
    fast = ChunkFastPath(app.wsgi_app, svc.settings, svc.data)
    app.extensions["chromatile.fastpath"] = fast
    guard = ConcurrencyGuard(fast, svc.settings.max_concurrency, svc.settings.acquire_timeout,
                             svc.settings.retry_after, origins)
    app.wsgi_app = guard  # type: ignore[method-assign]
    app.extensions["chromatile.guard"] = guard
    return app
