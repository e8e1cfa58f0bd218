"""The static site's pages: the viewer page (webclient/index.html, the one the server sends) with its
base filled in and a small inline config, and the catalog JSON the catalog page reads.

The server fills `__CHROMATILE_BASE__` per request and the page finds the image in its URL
(/view/<id>); a published page instead carries `<script type="application/json" id="chromatile-site">`
with the catalog and store URLs, relative to the page unless a base URL was given. Same page, same
code: a fix to the viewer page lands in both.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from chromatile.errors import UserError

BASE_PLACEHOLDER = "__CHROMATILE_BASE__"
CONFIG_ID = "chromatile-site"
CATALOG_FILE = "catalog.json"


def read_template(webclient_dir: Path) -> str:
    """The viewer page template; UserError if it, its stylesheet or the built viewer bundle is missing."""
    index = webclient_dir / "index.html"
    for needed in (webclient_dir / "dist" / "chromatile.js", webclient_dir / "viewer.css"):
        if not needed.is_file():
            raise UserError(f"the viewer file {str(needed)!r} is missing: build the viewer first (npm run build)")
    try:
        html = index.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"the viewer page {str(index)!r} is missing") from None
    if BASE_PLACEHOLDER not in html or "</head>" not in html:
        raise UserError(f"{str(index)!r} is not the viewer page template (no {BASE_PLACEHOLDER} or </head>)")
    return html


def page_base(depth: int, base_url: str | None) -> str:
    """URL prefix of the site's root as seen from a page `depth` folders below it."""
    if base_url is not None:
        return base_url
    return "/".join([".."] * depth) if depth else "."


def render_page(template: str, base: str, config: dict[str, Any]) -> bytes:
    """The template with its base filled in and `config` inlined before `</head>`."""
    # "</" cannot end the script element early once escaped; JSON reads "<\/" as "</"
    blob = json.dumps(config, sort_keys=True).replace("</", "<\\/")
    tag = f'  <script type="application/json" id="{CONFIG_ID}">{blob}</script>\n'
    html = template.replace(BASE_PLACEHOLDER, base).replace("</head>", tag + "</head>", 1)
    return html.encode("utf-8")


def catalog_page(template: str, base_url: str | None) -> bytes:
    """index.html: the catalog page, reading catalog.json."""
    base = page_base(0, base_url)
    return render_page(template, base, {"catalog": f"{base}/{CATALOG_FILE}"})


def viewer_page(template: str, base_url: str | None, image_id: str, store_path: str) -> bytes:
    """view/<id>/index.html: the viewer opened on one image."""
    base = page_base(2, base_url)
    return render_page(template, base, {"catalog": f"{base}/{CATALOG_FILE}", "image": image_id,
                                        "source": f"{base}/{store_path}"})


def catalog_json(entries: list[dict[str, Any]]) -> bytes:
    """catalog.json: the server's /api/images answer, URLs relative to this file."""
    return (json.dumps({"images": entries}, indent=1, sort_keys=True) + "\n").encode("utf-8")
