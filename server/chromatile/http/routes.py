"""The routes: each one parses the request, calls a plain handler, shapes the answer."""

from __future__ import annotations

import gzip
import os
import time
from collections.abc import Callable

from flask import Blueprint, Response, jsonify, request

from chromatile import access
from chromatile.access import Credentials, Grant
from chromatile.errors import NotFound, UserError, Withdrawn
from chromatile.handlers import admin, images
from chromatile.handlers import files as file_handlers
from chromatile.handlers.authorize import authorize
from chromatile.handlers.services import Services
from chromatile.http import files, pages, policy
from chromatile.http.errors import register_errors, status_of
from chromatile.http.openapi import openapi_document
from chromatile.http.placeholders import placeholder_png
from chromatile.store import safe_file

BASE_PLACEHOLDER = "__CHROMATILE_BASE__"
__all__ = ["Services", "add_cors", "build_blueprint"]


def credentials(image_id: str) -> Credentials:
    """The request's credentials for `image_id`: header, `?token=`, the cookie a signed link left."""
    return Credentials(authorization=request.headers.get("Authorization"),
                       url_token=request.args.get("token"),
                       cookie_token=request.cookies.get(access.cookie_name(image_id)))


def build_blueprint(svc: Services) -> Blueprint:
    """The blueprint of every chromatile route, bound to one Services."""
    bp = Blueprint("chromatile", __name__)
    settings = svc.settings

    def base() -> str:
        return request.script_root + svc.url_prefix

    def vary_cookie(response: Response, grant: Grant) -> Response:
        if grant.via_cookie:
            response.vary.add("Cookie")
        return response

    # -- viewer pages -------------------------------------------------------------------------------

    def page(image_id: str | None = None) -> Response:
        grant = access.PUBLIC
        if image_id is not None:
            try:
                _, grant = authorize(svc, image_id, credentials(image_id))
            except UserError as exc:
                if not pages.wants_html(request.accept_mimetypes):
                    raise
                return pages.error_page(status_of(exc), str(exc), base())
        index = os.path.join(settings.webclient_dir, "index.html")
        try:
            with open(index, encoding="utf-8") as f:
                html = f.read()
        except FileNotFoundError:
            raise NotFound("the viewer page index.html is missing from the viewer folder") from None
        response = Response(html.replace(BASE_PLACEHOLDER, base()), mimetype="text/html")
        response.headers["Cache-Control"] = "no-cache"
        token = request.args.get("token")
        if image_id is not None and grant.private and token and not request.headers.get("Authorization"):
            # authorize() accepted it: keep it, scoped to this app, until the token expires
            response.set_cookie(access.cookie_name(image_id), token, path=(base() or "") + "/",
                                max_age=max(0, access.expiry(token) - int(time.time())),
                                httponly=True, samesite="Lax", secure=request.is_secure)
        return vary_cookie(response, grant)

    bp.add_url_rule("/", "index", page)
    bp.add_url_rule("/view", "view_url", page)
    bp.add_url_rule("/view/<image_id>", "view", page)

    @bp.route("/viewer/<path:path>")
    def viewer_file(path: str) -> Response:
        real = safe_file(settings.webclient_dir, path)
        if not os.path.isfile(real):
            raise NotFound(f"no viewer file {path[:80]!r}")
        return files.send_path(real, "no-cache")

    # -- JSON API -------------------------------------------------------------------------------------

    @bp.route("/api/openapi.json")
    def openapi() -> Response:
        return jsonify(openapi_document(base()))

    @bp.route("/api/health")
    def health() -> Response:
        return jsonify(images.health(svc))

    @bp.route("/api/images")
    def catalog_list() -> Response:
        return jsonify(images.catalog(svc, request.headers.get("Authorization"), base()))

    @bp.route("/api/images/<image_id>")
    def image_metadata(image_id: str) -> Response:
        summary, grant = images.metadata(svc, image_id, credentials(image_id), base())
        response = jsonify(summary)
        if grant.private:
            response.headers["Cache-Control"] = policy.metadata_cache_control(True, 0)
        return vary_cookie(response, grant)

    @bp.route("/api/images/<image_id>/thumbnail.png")
    def thumbnail(image_id: str) -> Response:
        try:
            real, grant = images.thumbnail(svc, image_id, credentials(image_id))
        except (Withdrawn, access.Unauthorized) as exc:
            # an <img> on another site (its Accept names images or */*) shows a "withdrawn"/"private"
            # picture, not a broken icon; API clients asking for JSON, or for nothing, keep the JSON
            if request.accept_mimetypes.best_match(["image/png", "application/json"]) != "image/png":
                raise
            kind = "withdrawn" if isinstance(exc, Withdrawn) else "private"
            response = Response(placeholder_png(kind), status=status_of(exc), mimetype="image/png")
            response.headers["Cache-Control"] = "no-store"
            if kind == "private":
                response.headers["WWW-Authenticate"] = 'Bearer realm="chromatile"'
            return response
        cache = policy.metadata_cache_control(grant.private, settings.metadata_max_age)
        return vary_cookie(files.send_path(real, cache, "image/png"), grant)

    @bp.route("/api/images/<image_id>/defaults", methods=["PUT"])
    def save_defaults(image_id: str) -> Response:
        admin.check_admin(svc, request.headers.get("Authorization"))
        body = admin.parse_body(request.get_data(cache=False))
        return jsonify(admin.save_defaults(svc, image_id, body, base()))

    def admin_action(action: str) -> Callable[[str], Response]:
        def view(image_id: str) -> Response:
            admin.check_admin(svc, request.headers.get("Authorization"))
            body = admin.parse_body(request.get_data(cache=False)) if action == "withdraw" else None
            return jsonify(admin.change_state(svc, action, image_id, body))
        return view

    # one family of routes: /api/admin/images/<id>/{withdraw,restore,private,public}
    for action in admin.ACTIONS:
        bp.add_url_rule(f"/api/admin/images/<image_id>/{action}", f"admin_{action}",
                        admin_action(action), methods=["POST"])

    # -- store files (the careful path; the fast path answers plain public chunks first) ---------------

    @bp.route("/data/<store>/<path:path>")
    def store_file(store: str, path: str) -> Response:
        image_id = store.removesuffix(".ome.zarr")
        answer = file_handlers.store_file(svc, store, path, credentials(image_id))
        if answer.real is None:
            response = Response(b"", status=404)
            response.headers["Cache-Control"] = answer.cache_control
        elif settings.x_accel_prefix is not None:
            response = files.accel_redirect(f"{settings.x_accel_prefix}{store}/{path}",
                                            answer.cache_control, files.guess_type(answer.real))
        else:
            response = files.send_path(answer.real, answer.cache_control)
        return vary_cookie(response, answer.grant)

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
    """The CORS policy (:func:`policy.cors_headers`) applied to a Flask response."""
    for name, value in policy.cors_headers(origins, request.headers.get("Origin"), request.method):
        if name == "Vary":
            response.vary.add(value)
        else:
            response.headers[name] = value


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
