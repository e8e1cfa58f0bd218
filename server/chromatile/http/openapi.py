"""The OpenAPI 3 document of the HTTP API, written by hand (served at /api/openapi.json)."""

from __future__ import annotations

from typing import Any

from chromatile import __version__

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"


def _error(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _json(description: str, ref: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}}


IMAGE_ID = {"name": "image_id", "in": "path", "required": True,
            "schema": {"type": "string", "pattern": ID_PATTERN}}
TOKEN = {"name": "token", "in": "query", "required": False,
         "description": "Signed URL token of a private image (`chromatile sign`).",
         "schema": {"type": "string"}}
READ_ERRORS = {
    "400": _error("Malformed id or path."),
    "401": _error("Private image and no credentials."),
    "403": _error("Credentials that may not read this image."),
    "404": _error("No such image or file."),
    "410": _error("The image was withdrawn."),
    "503": _error("DATA_DIR or the images' state cannot be read now (Retry-After), or the server is full."),
}
ADMIN_ERRORS = {
    "400": _error("Malformed id or body."),
    "401": _error("No admin token."),
    "403": _error("Wrong admin token, or admin endpoints disabled."),
    "404": _error("No such image."),
}

CHANNEL = {
    "type": "object",
    "required": ["index", "label", "color", "active", "inverted", "window", "gamma", "colormap"],
    "properties": {
        "index": {"type": "integer"},
        "label": {"type": "string"},
        "color": {"type": "string", "pattern": "^[0-9A-Fa-f]{6}$"},
        "active": {"type": "boolean"},
        "inverted": {"type": "boolean"},
        "window": {"type": "object", "properties": {k: {"type": "number", "nullable": True}
                                                     for k in ("start", "end", "min", "max")}},
        "gamma": {"type": "number"},
        "colormap": {"type": "string"},
        "min": {"type": "number", "nullable": True},
        "max": {"type": "number", "nullable": True},
        "histogram": {"type": "object", "nullable": True, "properties": {
            "range": {"type": "array", "items": {"type": "number"}},
            "counts": {"type": "array", "items": {"type": "integer"}}}},
    },
}

IMAGE = {
    "type": "object",
    "required": ["id", "name", "axes", "shape", "dtype", "levels", "physical_sizes", "channels",
                 "private", "url", "store_url", "thumbnail_url", "viewer_url"],
    "properties": {
        "id": {"type": "string"},
        "name": {"type": "string"},
        "ngff": {"type": "string", "enum": ["0.4", "0.5"]},
        "axes": {"type": "array", "items": {"type": "object", "required": ["name"],
                                            "properties": {"name": {"type": "string"},
                                                           "type": {"type": "string"},
                                                           "unit": {"type": "string"}}}},
        "shape": {"type": "object", "additionalProperties": {"type": "integer"}},
        "dtype": {"type": "string"},
        "tile": {"type": "integer"},
        "levels": {"type": "array", "items": {"type": "object", "required": ["path", "shape", "chunks", "scale"],
                                              "properties": {
                                                  "path": {"type": "string"},
                                                  "shape": {"type": "array", "items": {"type": "integer"}},
                                                  "chunks": {"type": "array", "items": {"type": "integer"}},
                                                  "shards": {"type": "array", "items": {"type": "integer"},
                                                             "nullable": True},
                                                  "scale": {"type": "array", "items": {"type": "number"}},
                                                  "downsample": {"type": "array", "items": {"type": "number"}},
                                                  "dtype": {"type": "string"},
                                                  "compressor": {"type": "string", "nullable": True}}}},
        "physical_sizes": {"type": "object", "additionalProperties": {
            "type": "object", "properties": {"size": {"type": "number"},
                                             "unit": {"type": "string", "nullable": True}}}},
        "channels": {"type": "array", "items": CHANNEL},
        "default_z": {"type": "integer"},
        "default_t": {"type": "integer"},
        "private": {"type": "boolean"},
        "url": {"type": "string"},
        "store_url": {"type": "string"},
        "thumbnail_url": {"type": "string"},
        "viewer_url": {"type": "string"},
    },
}

CATALOG_ENTRY = {
    "type": "object",
    "required": ["id", "name", "shape", "dtype", "levels", "channels", "private", "url", "store_url"],
    "properties": {
        "id": {"type": "string"}, "name": {"type": "string"},
        "shape": {"type": "object", "additionalProperties": {"type": "integer"}},
        "dtype": {"type": "string"}, "levels": {"type": "integer"},
        "channels": {"type": "array", "items": {"type": "string"}},
        "private": {"type": "boolean"},
        "size_bytes": {"type": "integer", "nullable": True},
        "ingested": {"type": "string", "format": "date-time", "nullable": True},
        "url": {"type": "string"}, "store_url": {"type": "string"},
        "thumbnail_url": {"type": "string"}, "viewer_url": {"type": "string"},
    },
}

DEFAULTS_BODY = {
    "type": "object",
    "required": ["channels"],
    "additionalProperties": False,
    "properties": {"channels": {"type": "array", "items": {
        "type": "object", "additionalProperties": False,
        "properties": {
            "color": {"type": "string", "pattern": "^#?[0-9A-Fa-f]{6}$"},
            "window": {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2},
            "visible": {"type": "boolean"},
            "gamma": {"type": "number", "minimum": 0.01, "maximum": 100},
            "invert": {"type": "boolean"},
            "colormap": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]{0,63}$"},
        }}}},
}


def _admin_action(action: str, summary: str) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": f"admin_{action}",
        "summary": summary,
        "security": [{"bearer": []}],
        "parameters": [IMAGE_ID],
        "responses": {"200": _json("The image's state after the action.", "AdminResult"), **ADMIN_ERRORS},
    }
    if action == "withdraw":
        op["requestBody"] = {"required": False, "content": {"application/json": {"schema": {
            "type": "object", "properties": {"reason": {"type": "string"}}}}}}
    return {"post": op}


def openapi_document(server_url: str = "") -> dict[str, Any]:
    """The document, with `server_url` (the app's URL root) as its server."""
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "chromatile",
            "version": __version__,
            "description": "Raw per-channel tiles of very large microscopy images (OME-Zarr) plus a "
                           "catalog, access rules and withdrawal. Every error is JSON {\"error\": ...}.",
        },
        "servers": [{"url": server_url or "/"}],
        "paths": {
            "/api/health": {"get": {
                "operationId": "health", "summary": "Liveness and number of stores found.",
                "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {
                    "type": "object", "required": ["status"],
                    "properties": {"status": {"type": "string"}, "images": {"type": "integer"}}}}}}}}},
            "/api/images": {"get": {
                "operationId": "list_images",
                "summary": "Catalog: every servable image (private ones only with a bearer token).",
                "security": [{}, {"bearer": []}],
                "responses": {
                    "200": _json("The catalog.", "Catalog"),
                    "403": _error("A bearer token that is not valid."),
                }}},
            "/api/images/{image_id}": {"get": {
                "operationId": "get_image", "summary": "Metadata of one image.",
                "security": [{}, {"bearer": []}],
                "parameters": [IMAGE_ID, TOKEN],
                "responses": {"200": _json("Metadata.", "Image"), **READ_ERRORS}}},
            "/api/images/{image_id}/thumbnail.png": {"get": {
                "operationId": "get_thumbnail", "summary": "Small default-rendered preview.",
                "security": [{}, {"bearer": []}],
                "parameters": [IMAGE_ID, TOKEN],
                "responses": {"200": {"description": "PNG", "content": {"image/png": {"schema": {
                    "type": "string", "format": "binary"}}}}, **READ_ERRORS,
                    "401": {"description": "Private image and no credentials: a 'private' placeholder PNG "
                                           "for image clients, the JSON error for Accept: application/json.",
                            "content": {"image/png": {"schema": {"type": "string", "format": "binary"}},
                                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                    "410": {"description": "Withdrawn: a 'withdrawn' placeholder PNG for image clients, "
                                           "the JSON error for Accept: application/json.",
                            "content": {"image/png": {"schema": {"type": "string", "format": "binary"}},
                                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                }}},
            "/api/images/{image_id}/defaults": {"put": {
                "operationId": "put_defaults",
                "summary": "Save the viewer's channel settings as the image's defaults (admin).",
                "security": [{"bearer": []}],
                "parameters": [IMAGE_ID],
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Defaults"}}}},
                "responses": {"200": _json("The new metadata.", "Image"), **ADMIN_ERRORS,
                              "410": _error("The image was withdrawn."),
                              "507": _error("No space left to save; the metadata is unchanged.")}}},
            "/api/admin/images/{image_id}/withdraw": _admin_action(
                "withdraw", "Withdraw an image: 410 on every URL of it, out of the catalog."),
            "/api/admin/images/{image_id}/restore": _admin_action("restore", "Undo a withdrawal."),
            "/api/admin/images/{image_id}/private": _admin_action(
                "private", "Make an image readable only with a token."),
            "/api/admin/images/{image_id}/public": _admin_action("public", "Make an image public."),
            "/data/{store}/{path}": {"get": {
                "operationId": "get_store_file",
                "summary": "A file of a store (0.4: `.zattrs`, `.zgroup`, `<level>/.zarray`, chunks "
                           "`<level>/<t>/<c>/<z>/<y>/<x>`; 0.5: `zarr.json`, chunk or shard files "
                           "`<level>/c/<t>/<c>/<z>/<y>/<x>`): bytes unchanged, strong ETag, RFC 9110 "
                           "conditionals and one byte range (206), 304, 412, 416. An absent chunk inside "
                           "the grid (all zeros) answers 404 with no body.",
                "security": [{}, {"bearer": []}],
                "parameters": [
                    {"name": "store", "in": "path", "required": True,
                     "schema": {"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}\.ome\.zarr$"}},
                    {"name": "path", "in": "path", "required": True, "schema": {"type": "string"}},
                    TOKEN,
                ],
                "responses": {
                    "200": {"description": "The file's bytes.", "content": {
                        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
                        "application/json": {"schema": {"type": "object"}}}},
                    "206": {"description": "A byte range of the file (Content-Range)."},
                    "304": {"description": "Not modified."},
                    "412": _error("A precondition (If-Match, If-Unmodified-Since) failed."),
                    "416": _error("The range starts past the end of the file."),
                    **READ_ERRORS,
                }}},
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {"type": "object", "required": ["error"],
                          "properties": {"error": {"type": "string"}}},
                "Image": IMAGE,
                "Catalog": {"type": "object", "required": ["images"],
                            "properties": {"images": {"type": "array", "items": CATALOG_ENTRY}}},
                "Defaults": DEFAULTS_BODY,
                "AdminResult": {"type": "object", "required": ["id", "action", "changed", "withdrawn", "private"],
                                "properties": {"id": {"type": "string"}, "action": {"type": "string"},
                                               "changed": {"type": "boolean"},
                                               "withdrawn": {"type": "boolean"},
                                               "private": {"type": "boolean"},
                                               "purge": {"type": "string"}}},
            },
        },
    }
