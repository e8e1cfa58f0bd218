"""Private images: hidden from anonymous catalogs, readable with a bearer or a signed expiring token."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
from conftest import ADMIN, CHROMATILE, READER, LiveServer

from chromatile import access
from chromatile.store import DataDir

URLS = ["/api/images/ramp", "/api/images/ramp/thumbnail.png", "/data/ramp.ome.zarr/.zattrs",
        "/data/ramp.ome.zarr/0/0/0/0/0/0"]


@pytest.fixture
def private(live: LiveServer) -> LiveServer:
    done = subprocess.run([str(CHROMATILE), "private", str(live.data_dir), "ramp"],
                          capture_output=True, text=True, check=False)
    assert (done.returncode, done.stdout) == (0, "ramp is private\n")
    return live


def sign(data_dir: Path, image_id: str, expires: int = 3600) -> str:
    done = subprocess.run([str(CHROMATILE), "sign", str(data_dir), image_id, "--expires", str(expires)],
                          capture_output=True, text=True, check=True)
    return done.stdout.strip()


def ids(live: LiveServer, headers: dict[str, str] | None = None) -> list[str]:
    return [e["id"] for e in live.get("/api/images", headers=headers).json()["images"]]


def test_anonymous_requests_are_refused_and_the_catalog_hides_it(private: LiveServer) -> None:
    for url in URLS:
        r = private.get(url)
        assert r.status == 401, url
        assert "is private" in r.json()["error"]
        assert r.header("WWW-Authenticate") == 'Bearer realm="chromatile"'
    assert ids(private) == ["small"]


@pytest.mark.parametrize("token", [ADMIN, READER])
def test_a_bearer_token_reads_everything_and_sees_it_listed(private: LiveServer, token: str) -> None:
    auth = {"Authorization": f"Bearer {token}"}
    for url in URLS:
        r = private.get(url, headers=auth)
        assert r.status == 200, url
    chunk = private.get(URLS[3], headers=auth)
    assert chunk.body == (private.data_dir / "ramp.ome.zarr/0/0/0/0/0/0").read_bytes()
    assert chunk.header("Cache-Control") == "private, max-age=31536000, immutable"
    assert private.get(URLS[0], headers=auth).json()["private"] is True
    assert ids(private, auth) == ["ramp", "small"]


def test_a_wrong_bearer_token_is_403(private: LiveServer) -> None:
    r = private.get(URLS[0], headers={"Authorization": "Bearer guess"})
    assert r.status == 403
    assert private.get("/api/images", headers={"Authorization": "Bearer guess"}).status == 403


def test_a_signed_token_reads_every_url_of_its_image_only(private: LiveServer) -> None:
    token = sign(private.data_dir, "ramp")
    assert token.startswith("v1.")
    for url in URLS:
        assert private.get(f"{url}?token={token}").status == 200, url
    private.get("/api/admin/images/small/private", method="POST", headers={"Authorization": f"Bearer {ADMIN}"})
    r = private.get(f"/api/images/small?token={token}")
    assert (r.status, r.json()) == (403, {"error": "the URL token is not valid for image 'small'"})


def test_expired_and_forged_tokens_are_refused(private: LiveServer) -> None:
    secret = DataDir(private.data_dir).signing_secret(create=True)
    expired = access.sign(secret, "ramp", int(time.time()) - 1)
    r = private.get(f"{URLS[3]}?token={expired}")
    assert (r.status, r.json()) == (403, {"error": "the URL token has expired"})
    forged = access.sign(b"another-secret", "ramp", int(time.time()) + 3600)
    assert private.get(f"{URLS[0]}?token={forged}").status == 403
    assert private.get(f"{URLS[0]}?token=garbage").json() == {"error": "the URL token is malformed"}


def test_configured_signing_secret_wins(serve_app, data_dir: Path) -> None:
    live = serve_app(data_dir, signing_secret="configured")
    DataDir(data_dir).set_private("small", True)
    good = access.sign(b"configured", "small", int(time.time()) + 60)
    assert live.get(f"/api/images/small?token={good}").status == 200
    other = sign(data_dir, "small")  # made with DATA_DIR's own secret, which this server does not use
    assert live.get(f"/api/images/small?token={other}").status == 403


def test_public_again(private: LiveServer) -> None:
    subprocess.run([str(CHROMATILE), "public", str(private.data_dir), "ramp"], check=True, capture_output=True)
    assert [private.get(u).status for u in URLS] == [200] * 4
    assert ids(private) == ["ramp", "small"]


def test_withdrawn_wins_over_private_and_tokens(private: LiveServer) -> None:
    DataDir(private.data_dir).withdraw("ramp")
    assert private.get(URLS[0], headers={"Authorization": f"Bearer {ADMIN}"}).status == 410


def test_a_signed_view_link_lets_the_viewers_own_requests_in_through_a_cookie(serve_app, data_dir: Path,
                                                                           tmp_path: Path) -> None:
    webclient = tmp_path / "webclient"
    webclient.mkdir()
    (webclient / "index.html").write_text("<!doctype html>viewer")
    live = serve_app(data_dir, webclient_dir=webclient)
    DataDir(data_dir).set_private("ramp", True)
    token = sign(data_dir, "ramp", expires=600)
    page = live.get(f"/view/ramp?token={token}")
    assert page.status == 200
    cookie = page.header("Set-Cookie")
    assert cookie.startswith(f"chromatile-token-ramp={token};")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/;" in cookie
    max_age = int(cookie.split("Max-Age=")[1].split(";")[0])
    assert 590 <= max_age <= 600
    jar = {"Cookie": f"chromatile-token-ramp={token}"}
    for url in URLS:  # what the viewer fetches next, without any token in the URL
        assert live.get(url, headers=jar).status == 200, url
        assert live.get(url).status == 401, url
    # the cookie is for its image only, and an expired one is refused
    DataDir(data_dir).set_private("small", True)
    assert live.get("/api/images/small", headers={"Cookie": f"chromatile-token-small={token}"}).status == 403
    secret = DataDir(data_dir).signing_secret()
    old = access.sign(secret, "ramp", int(time.time()) - 1)
    assert live.get(URLS[3], headers={"Cookie": f"chromatile-token-ramp={old}"}).status == 403
    # a bearer-authorised page sets no cookie; a bad token sets none and is refused
    assert live.get("/view/ramp", headers={"Authorization": f"Bearer {READER}"}).header("Set-Cookie") is None
    assert live.get("/view/ramp?token=v1.x.y").status == 403
