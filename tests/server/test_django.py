"""The Django recipe of docs/server.md, run for real: a Django project whose wsgi.py routes /tiles to
chromatile, under gunicorn on a loopback port, with a Django view that hands out signed URLs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ADMIN, fetch, free_port, wait_for_port

from chromatile.store import DataDir

SETTINGS = """
SECRET_KEY = "test-only"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1"]
ROOT_URLCONF = "mysite.urls"
INSTALLED_APPS = []
MIDDLEWARE = []
DATABASES = {}
"""

URLS = """
import time
from django.http import HttpResponse, JsonResponse
from django.urls import path

from chromatile.access import sign
from chromatile.store import DataDir

from mysite.wsgi import STORES, TILES


def home(request):
    return HttpResponse("django home")


def open_image(request, image_id):
    # after Django's own permission checks: a link valid for 10 minutes
    secret = DataDir(STORES).signing_secret(create=True)
    token = sign(secret, image_id, int(time.time()) + 600)
    return JsonResponse({"metadata": f"{TILES}/api/images/{image_id}?token={token}",
                         "viewer": f"{TILES}/view/{image_id}?token={token}"})


urlpatterns = [path("", home), path("open/<str:image_id>", open_image)]
"""

# The recipe, as docs/server.md gives it.
WSGI = """
import os

from django.core.wsgi import get_wsgi_application
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from chromatile import create_app

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")
STORES = os.environ["STORES"]
TILES = "/tiles"

django_app = get_wsgi_application()
tiles_app = create_app({"data_dir": STORES, "admin_token": os.environ["TILES_ADMIN_TOKEN"]})
application = DispatcherMiddleware(django_app, {TILES: tiles_app})
"""


@pytest.fixture
def django_site(data_dir: Path, tmp_path: Path) -> Iterator[str]:
    project = tmp_path / "site"
    (project / "mysite").mkdir(parents=True)
    (project / "mysite" / "__init__.py").write_text("")
    (project / "mysite" / "settings.py").write_text(SETTINGS)
    (project / "mysite" / "urls.py").write_text(URLS)
    (project / "mysite" / "wsgi.py").write_text(WSGI)
    port = free_port()
    log = open(tmp_path / "django.log", "wb")  # noqa: SIM115 - owned by the process
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--chdir", str(project), "--bind", f"127.0.0.1:{port}",
         "--workers", "1", "--threads", "4", "mysite.wsgi:application"],
        stdout=log, stderr=subprocess.STDOUT,
        env={**os.environ, "STORES": str(data_dir), "TILES_ADMIN_TOKEN": ADMIN})
    log.close()
    try:
        wait_for_port(port, proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
        assert "Traceback" not in (tmp_path / "django.log").read_text()


def test_chromatile_under_a_django_project(django_site: str, data_dir: Path) -> None:
    assert fetch(django_site, "/").body == b"django home"
    meta = fetch(django_site, "/tiles/api/images/ramp").json()
    assert (meta["store_url"], meta["viewer_url"]) == ("/tiles/data/ramp.ome.zarr", "/tiles/view/ramp")
    chunk = fetch(django_site, "/tiles/data/ramp.ome.zarr/0/0/0/0/0/0")
    assert chunk.body == (data_dir / "ramp.ome.zarr/0/0/0/0/0/0").read_bytes()
    assert chunk.header("Cache-Control") == "public, max-age=31536000, immutable"
    assert fetch(django_site, "/tiles/api/images/nope").json() == {"error": "no image 'nope'"}

    # a private image: Django decides who may see it and hands out a signed link
    DataDir(data_dir).set_private("ramp", True)
    assert fetch(django_site, "/tiles/api/images/ramp").status == 401
    links = fetch(django_site, "/open/ramp").json()
    assert links["metadata"].startswith("/tiles/api/images/ramp?token=v1.")
    assert fetch(django_site, links["metadata"]).json()["id"] == "ramp"

    withdraw = fetch(django_site, "/tiles/api/admin/images/ramp/withdraw", method="POST",
                     headers={"Authorization": f"Bearer {ADMIN}"})
    assert withdraw.json()["withdrawn"] is True
    assert fetch(django_site, links["metadata"]).status == 410
