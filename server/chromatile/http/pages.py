"""The HTML pages the server writes itself: the error page of /view/<id> (unknown, withdrawn, refused).

Everything else a person sees (the viewer, the catalog) is the client-side page webclient/index.html.
A browser asking for /view/<id> gets a page in the viewer's style with the reason and a link to the
catalog, under the same status code as the JSON error; a client asking for JSON keeps the JSON.
"""

from __future__ import annotations

from html import escape

from flask import Response
from werkzeug.datastructures import MIMEAccept

# What a reader needs to hear first, per status; the server's message follows as the detail.
TITLES = {
    400: "This is not a valid image address",
    401: "This image is private",
    403: "This link does not give access to the image",
    404: "No such image",
    410: "This image was withdrawn",
}
HINTS = {
    401: "Open it with the link you were given (it carries an access token).",
    403: "The link's token is wrong or has expired: ask whoever shared it for a new link.",
    410: "It is no longer served by this server.",
}

PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="robots" content="noindex">
  <title>{title} · chromatile</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="{base}/viewer/viewer.css">
</head>
<body class="ct-page">
  <main class="ct-error-page" role="alert" data-status="{status}">
    <h1>{title}</h1>
    <p class="ct-error-reason">{reason}</p>
    {hint}
    <p class="ct-error-status">HTTP {status}</p>
    <p><a class="ct-error-catalog" href="{base}/">See the images on this server</a></p>
  </main>
</body>
</html>
"""


def wants_html(accept: MIMEAccept) -> bool:
    """True unless the client prefers JSON (an `Accept: application/json` API client)."""
    return accept.best_match(["text/html", "application/json"]) == "text/html"


def error_page(status: int, reason: str, base: str) -> Response:
    """The error page for `status` with the server's `reason`; `base` is the app's URL prefix."""
    title = TITLES.get(status, "This page cannot be shown")
    hint = HINTS.get(status)
    html = PAGE.format(title=escape(title), reason=escape(_sentence(reason)), status=status,
                       hint=f'<p class="ct-error-hint">{escape(hint)}</p>' if hint else "",
                       base=escape(base, quote=True))
    response = Response(html, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="chromatile"'
    return response


def _sentence(reason: str) -> str:
    reason = reason.strip()
    return reason[:1].upper() + reason[1:] + ("" if reason.endswith((".", "!", "?")) else ".")
