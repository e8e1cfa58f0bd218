"""The routes: each one parses the request, checks it, calls the store/catalog, shapes the answer."""

from __future__ import annotations

import gzip
import os
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, jsonify, request

from chromatile import access, defaults, purge
from chromatile.catalog import Catalog
from chromatile.config import Settings
from chromatile.errors import BadRequest, Forbidden, NotFound, UserError
from chromatile.http import files, pages
from chromatile.http.errors import register_errors, status_of
from chromatile.http.openapi import openapi_document
from chromatile.store import CHUNK_RE, STORE_SUFFIX, DataDir, check_id, safe_file, thumbnail_file

BASE_PLACEHOLDER = "__CHROMATILE_BASE__"
ADMIN_ACTIONS = ("withdraw", "restore", "private", "public")


@dataclass
class Services:
    """What the routes need, built once per app (no globals)."""

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


def build_blueprint(svc: Services) -> Blueprint:
    """The blueprint of every chromatile route, bound to one Services."""
    bp = Blueprint("chromatile", __name__)
    settings = svc.settings
    data = svc.data
    chunk_public = files.chunk_cache_control(False, settings.shared_max_age)
    chunk_private = files.chunk_cache_control(True, settings.shared_max_age)
    meta_public = ("no-cache" if settings.metadata_max_age == 0
                   else f"public, max-age={settings.metadata_max_age}")
    meta_private = "private, no-cache"

    def base() -> str:
        return request.script_root + svc.url_prefix

    def authorize(image_id: str) -> bool:
        """410 if withdrawn, 401/403 if private without a valid token; returns whether private."""
        check_id(image_id)
        data.check_not_withdrawn(image_id)
        if not data.state(image_id).private:
            return False
        # the URL's token, else the one a signed /view/<id>?token= link left in a cookie (the viewer's
        # own requests for metadata and tiles carry no token, but same-origin ones carry the cookie)
        token = request.args.get("token") or request.cookies.get(access.cookie_name(image_id))
        access.may_read_private(image_id, request.headers.get("Authorization"), token, svc.readers,
                                svc.secret())
        return True

    def admin() -> None:
        access.check_admin(request.headers.get("Authorization"), settings.admin_token)

    def with_urls(summary: dict[str, Any], private: bool) -> dict[str, Any]:
        image_id = summary["id"]
        root = base()
        return {
            **summary,
            "private": private,
            "url": f"{root}/api/images/{image_id}",
            "store_url": f"{root}/data/{image_id}{STORE_SUFFIX}",
            "thumbnail_url": f"{root}/api/images/{image_id}/thumbnail.png",
            "viewer_url": f"{root}/view/{image_id}",
        }

    # -- viewer pages -------------------------------------------------------------------------------

    def page(image_id: str | None = None) -> Response:
        private = False
        if image_id is not None:
            try:
                private = authorize(image_id)
                data.resolve_store(image_id)
            except UserError as exc:
                if not pages.wants_html(request.accept_mimetypes):
                    raise
                return pages.error_page(status_of(exc), str(exc), base())
        index = os.path.join(settings.webclient_dir, "index.html")
        try:
            with open(index, encoding="utf-8") as f:
                html = f.read()
        except FileNotFoundError:
            raise NotFound(f"viewer page {index} is missing") from None
        response = Response(html.replace(BASE_PLACEHOLDER, base()), mimetype="text/html")
        response.headers["Cache-Control"] = "no-cache"
        token = request.args.get("token")
        if image_id is not None and private and token and not request.headers.get("Authorization"):
            # authorize() accepted it: keep it, scoped to this app, until the token expires
            response.set_cookie(access.cookie_name(image_id), token, path=(base() or "") + "/",
                                max_age=max(0, access.expiry(token) - int(time.time())),
                                httponly=True, samesite="Lax", secure=request.is_secure)
        return response

    bp.add_url_rule("/", "index", page)
    bp.add_url_rule("/view", "view_url", page)
    bp.add_url_rule("/view/<image_id>", "view", page)

    @bp.route("/viewer/<path:path>")
    def viewer_file(path: str) -> Response:
        real = safe_file(settings.webclient_dir, path)
        if not os.path.isfile(real):
            raise NotFound(f"no viewer file {path!r}")
        return files.send_path(real, "no-cache")

    # -- JSON API -------------------------------------------------------------------------------------

    @bp.route("/api/openapi.json")
    def openapi() -> Response:
        return jsonify(openapi_document(base()))

    @bp.route("/api/health")
    def health() -> Response:
        return jsonify(status="ok", images=len(svc.catalog.ids()))

    @bp.route("/api/images")
    def catalog_list() -> Response:
        token = access.bearer_token(request.headers.get("Authorization"))
        include_private = False
        if token is not None:
            if not access.token_matches(token, svc.readers):
                raise Forbidden("the bearer token is not valid")
            include_private = True
        entries = svc.catalog.listing(include_private=include_private)
        return jsonify(images=[with_urls(e, e["private"]) for e in entries])

    @bp.route("/api/images/<image_id>")
    def image_metadata(image_id: str) -> Response:
        private = authorize(image_id)
        return jsonify(with_urls(svc.catalog.metadata(image_id), private))

    @bp.route("/api/images/<image_id>/thumbnail.png")
    def thumbnail(image_id: str) -> Response:
        private = authorize(image_id)
        summary = svc.catalog.metadata(image_id)
        real = thumbnail_file(data.resolve_store(image_id), summary)
        return files.send_path(real, meta_private if private else meta_public, "image/png")

    @bp.route("/api/images/<image_id>/defaults", methods=["PUT"])
    def save_defaults(image_id: str) -> Response:
        admin()
        check_id(image_id)
        data.check_not_withdrawn(image_id)
        summary = svc.catalog.metadata(image_id)
        body = request.get_json(silent=True, force=True)
        if body is None:
            raise BadRequest("the body must be JSON")
        settings_ = defaults.validate(body, len(summary["channels"]), summary["dtype"])
        store_real = data.resolve_store(image_id)
        data.update_zattrs(image_id, lambda doc: defaults.apply(doc, store_real, settings_))
        return jsonify(with_urls(svc.catalog.metadata(image_id), data.state(image_id).private))

    def admin_action(action: str) -> Callable[[str], Response]:
        def view(image_id: str) -> Response:
            admin()
            check_id(image_id)
            if action == "withdraw":
                body = request.get_json(silent=True, force=True)
                reason = body.get("reason", "") if isinstance(body, dict) else ""
                data.withdraw(image_id, str(reason)[:500])
                changed = True
            elif action == "restore":
                changed = data.restore(image_id)
            else:
                changed = data.set_private(image_id, action == "private")
            result: dict[str, Any] = {"id": image_id, "action": action, "changed": changed,
                                      **vars(data.state(image_id))}
            if changed and action in ("withdraw", "private") and settings.purge_command:
                result["purge"] = purge.run(settings.purge_command, image_id)
            return jsonify(result)
        return view

    # one family of routes: /api/admin/images/<id>/{withdraw,restore,private,public}
    for action in ADMIN_ACTIONS:
        bp.add_url_rule(f"/api/admin/images/<image_id>/{action}", f"admin_{action}",
                        admin_action(action), methods=["POST"])

    # -- store files (the hot path) -----------------------------------------------------------------------

    @bp.route("/data/<store>/<path:path>")
    def store_file(store: str, path: str) -> Response:
        if not store.endswith(STORE_SUFFIX):
            raise NotFound(f"{store!r} is not a store name (<id>{STORE_SUFFIX})")
        image_id = store[: -len(STORE_SUFFIX)]
        private = authorize(image_id)
        store_real, real = data.resolve_store_file(image_id, path)
        chunk = CHUNK_RE.match(path) is not None
        cache_control = (chunk_private if private else chunk_public) if chunk else \
            (meta_private if private else meta_public)
        try:
            st = os.stat(real)
        except (FileNotFoundError, NotADirectoryError):
            data.chunk_in_grid(store_real, path)  # raises unless an absent all-zero chunk
            response = Response(b"", status=404)
            response.headers["Cache-Control"] = cache_control
            return response
        if not stat.S_ISREG(st.st_mode):
            raise NotFound(f"{path!r} is not a file of store {image_id!r}")
        if settings.x_accel_prefix is not None:
            return files.accel_redirect(f"{settings.x_accel_prefix}{store}/{path}", cache_control,
                                        files.guess_type(real))
        return files.send_path(real, cache_control)

    # -- response finishing ---------------------------------------------------------------------------------

    origins = settings.origins

    @bp.after_request
    def finish(response: Response) -> Response:
        add_cors(response, origins)
        if settings.debug_headers:
            response.headers["X-Chromatile-Worker"] = str(os.getpid())
        if response.mimetype == "application/json" and not response.direct_passthrough:
            if "Cache-Control" not in response.headers:
                response.headers["Cache-Control"] = "no-cache"
            response.vary.add("Authorization")
            compress_json(response)
            if request.method in ("GET", "HEAD") and response.status_code == 200:
                response.add_etag()
                response.make_conditional(request)
        return response

    register_errors(bp)
    return bp


def add_cors(response: Response, origins: tuple[str, ...]) -> None:
    """Let viewers on other origins read every answer (errors too, so they can show them)."""
    if "*" in origins:
        response.headers["Access-Control-Allow-Origin"] = "*"
    else:
        origin = request.headers.get("Origin")
        response.vary.add("Origin")
        if origin in origins:
            response.headers["Access-Control-Allow-Origin"] = origin
    response.headers["Access-Control-Expose-Headers"] = files.EXPOSED
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, PUT, POST, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = (
            "Authorization, Range, Content-Type, If-None-Match, If-Modified-Since")
        response.headers["Access-Control-Max-Age"] = "86400"


def compress_json(response: Response) -> None:
    """Gzip JSON larger than a packet when the client accepts it (histograms compress ~10x)."""
    response.vary.add("Accept-Encoding")
    if "gzip" not in request.headers.get("Accept-Encoding", "") or response.content_encoding:
        return
    body = response.get_data()
    if len(body) < 1400:
        return
    response.set_data(gzip.compress(body, compresslevel=5, mtime=0))
    response.content_encoding = "gzip"
