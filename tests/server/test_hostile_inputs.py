"""Issue 8 points 3, 4, 5, 7, 8: inputs that reached a 5xx, HTTP as RFC 9110 says, saying less to
strangers, aliases sharing their target's state, thumbnails of withdrawn/private images as images."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import imagecodecs
import numpy as np
import pytest
from conftest import ADMIN, READER, LiveServer

from chromatile import access
from chromatile.store import DataDir

CHUNK = "/data/ramp.ome.zarr/0/0/0/0/0/0"
PRIVATE_URLS = ["/api/images/ramp", CHUNK, "/view/ramp"]
JSON = {"Accept": "application/json"}
IMG = {"Accept": "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"}  # what <img> sends


def no_5xx_json(r, what: str) -> None:
    assert 400 <= r.status < 500, (what, r.status, r.body[:200])
    assert set(json.loads(r.body)) == {"error"}, what


# -- point 4: no 5xx from any input ------------------------------------------------------------------


@pytest.mark.parametrize("token", [
    "v1.%C2%B2.AAAA",  # a superscript two: str.isdigit() says yes, int() says no
    "v1." + "9" * 5000 + ".AAAA",
    "v1.4102444800.%C3%A9",
    "v1.04102444800." + "A" * 43,  # a leading zero: malformed, not another spelling of a token
    "v1.%D9%A1%D9%A2." + "A" * 43,  # Arabic-Indic digits
])
def test_malformed_url_tokens_are_403_on_every_url(live: LiveServer, token: str) -> None:
    DataDir(live.data_dir).set_private("ramp", True)
    DataDir(live.data_dir).signing_secret(create=True)
    for url in PRIVATE_URLS:
        r = live.get(f"{url}?token={token}", headers=JSON)
        no_5xx_json(r, url)
        assert r.status == 403 and r.json() == {"error": "the URL token is malformed"}, url


def test_a_token_with_leading_zeros_is_not_the_same_token(live: LiveServer) -> None:
    data = DataDir(live.data_dir)
    data.set_private("ramp", True)
    good = access.sign(data.signing_secret(create=True), "ramp", int(time.time()) + 600)
    assert live.get(f"/api/images/ramp?token={good}").status == 200
    padded = good.replace("v1.", "v1.0", 1)
    assert live.get(f"/api/images/ramp?token={padded}").status == 403


@pytest.mark.parametrize("url", [
    "/data/ramp.ome.zarr/" + "/".join(["0"] * 2100),  # over 4,096 bytes
    "/data/ramp.ome.zarr/" + "a" * 300,  # one segment over 255 bytes
    "/data/ramp.ome.zarr/0/" + "b" * 256 + "/0",
    "/viewer/" + "c" * 300,
    "/viewer/" + "/".join(["d"] * 2100),
    "/api/images/" + "e" * 300,
    "/api/images/" + "e" * 300 + "/thumbnail.png",
    "/data/" + "f" * 300 + ".ome.zarr/.zattrs",
    "/view/" + "g" * 5000,
])
def test_paths_longer_than_the_os_allows_are_4xx(live: LiveServer, url: str) -> None:
    r = live.get(url, headers=JSON)
    no_5xx_json(r, url[:60])
    assert "/" + str(live.data_dir).strip("/") not in r.body.decode()


def corrupt(data_dir: Path, name: str, content: object) -> None:
    path = data_dir / "ramp.ome.zarr" / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))


def zarray(data_dir: Path) -> dict[str, object]:
    return json.loads((data_dir / "ramp.ome.zarr/0/.zarray").read_text())


@pytest.mark.parametrize(("name", "change"), [
    ("0/.zarray", lambda d: "{garbage"),
    ("0/.zarray", lambda d: {**zarray(d), "shape": [2, 140, 200]}),
    ("0/.zarray", lambda d: {**zarray(d), "chunks": [1, 1, 1, 0, 64]}),
    ("0/.zarray", lambda d: {**zarray(d), "chunks": []}),
    ("0/.zarray", lambda d: [1, 2]),
    (".zattrs", lambda d: "[" * 100_000),
    (".zattrs", lambda d: {**json.loads((d / "ramp.ome.zarr/.zattrs").read_text()),
                           "omero": {"channels": "DAPI"}}),
    (".zattrs", lambda d: {**json.loads((d / "ramp.ome.zarr/.zattrs").read_text()),
                           "chromatile": {"thumbnail": ["thumbnail.png"]}}),
    (".zattrs", lambda d: {"multiscales": "nope"}),
])
def test_corrupt_metadata_is_a_4xx_everywhere(live: LiveServer, name: str, change) -> None:
    corrupt(live.data_dir, name, change(live.data_dir))
    for url in ("/api/images/ramp", "/api/images/ramp/thumbnail.png", CHUNK + "?v=1",
                "/data/ramp.ome.zarr/0/0/1/0/0/0", "/data/ramp.ome.zarr/0/0/0/0/9/9", "/view/ramp"):
        r = live.get(url, headers=JSON)
        if r.status == 200 and url in (CHUNK + "?v=1", "/view/ramp"):
            continue  # a chunk file that exists is still served; the viewer page does not parse
        if (r.status, r.body) == (404, b"") and url == "/data/ramp.ome.zarr/0/0/1/0/0/0":
            continue  # an absent chunk inside an intact grid: fill value, as always
        no_5xx_json(r, url)
    listing = live.get("/api/images")
    assert listing.status == 200
    assert "small" in [e["id"] for e in listing.json()["images"]]
    assert live.get("/api/health").status == 200


@pytest.mark.parametrize("content", [b"garbage{", b"[1, 2]", b'{"reason": 5}', b"\xff\xfe", None])
def test_a_garbage_withdrawal_marker_still_withdraws(live: LiveServer, content: bytes | None) -> None:
    marker = live.data_dir / ".chromatile/withdrawn/ramp"
    marker.parent.mkdir(parents=True, exist_ok=True)
    if content is None:
        marker.mkdir()  # a folder is a marker too
    else:
        marker.write_bytes(content)
    for url in ("/api/images/ramp", CHUNK, "/data/ramp.ome.zarr/.zattrs", "/view/ramp"):
        r = live.get(url, headers=JSON)
        assert r.status == 410, url
        assert r.json() == {"error": "image 'ramp' was withdrawn"}
    private = live.data_dir / ".chromatile/private/small"
    private.parent.mkdir(parents=True, exist_ok=True)
    private.write_bytes(b"\x00garbage")
    assert live.get("/data/small.ome.zarr/0/0/0/0/0/0").status == 401


def test_state_folder_a_file_or_secret_a_folder_is_never_a_500(live: LiveServer) -> None:
    data = DataDir(live.data_dir)
    data.set_private("ramp", True)
    token = access.sign(data.signing_secret(create=True), "ramp", int(time.time()) + 600)
    secret = live.data_dir / ".chromatile/secret"
    secret.unlink()
    secret.mkdir()
    r = live.get(f"/api/images/ramp?token={token}")
    assert r.status == 503 and "signing secret" in r.json()["error"]
    assert str(live.data_dir) not in r.body.decode()
    assert live.get("/api/images/ramp", headers={"Authorization": f"Bearer {READER}"}).status == 200
    assert live.get("/api/images/ramp").status == 401  # still private: fails closed
    shutil.rmtree(live.data_dir / ".chromatile")
    (live.data_dir / ".chromatile").write_text("not a folder")
    for url in ("/api/images", "/api/images/ramp", CHUNK, "/api/health", f"/api/images/ramp?token={token}"):
        r = live.get(url, headers=JSON)
        assert r.status < 500 or r.status == 503, url
    withdraw = live.get("/api/admin/images/ramp/withdraw", method="POST",
                        headers={"Authorization": f"Bearer {ADMIN}"})
    assert withdraw.status == 503 and set(withdraw.json()) == {"error"}


def test_data_dir_gone_is_503_and_recovers(live: LiveServer) -> None:
    assert live.get(CHUNK).status == 200
    away = live.data_dir.with_name("away")
    live.data_dir.rename(away)
    try:
        for url in ("/api/images", "/api/images/ramp", CHUNK, "/api/images/ramp/thumbnail.png",
                    "/data/ramp.ome.zarr/.zattrs"):
            r = live.get(url, headers=JSON)
            assert r.status == 503, url
            assert r.json()["error"].startswith("the data directory is not available"), url
            assert r.header("Retry-After")
            assert str(away.parent) not in r.body.decode()
    finally:
        away.rename(live.data_dir)
    assert live.get(CHUNK).status == 200
    assert live.get("/api/images").status == 200


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("mount"), reason="needs root to mount a tmpfs")
def test_disk_full_on_put_defaults_is_507_and_metadata_intact(serve_app, data_dir: Path,
                                                              tmp_path: Path) -> None:
    full = tmp_path / "full"
    full.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(full)],
                      capture_output=True, check=False).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        shutil.copytree(data_dir / "small.ome.zarr", full / "small.ome.zarr")
        (full / ".chromatile").mkdir()
        (full / ".chromatile/lock").touch()
        before = (full / "small.ome.zarr/.zattrs").read_bytes()
        with open(full / "filler", "wb") as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError:
                pass
        live = serve_app(full)
        r = live.get("/api/images/small/defaults", method="PUT", body=json.dumps(
            {"channels": [{"color": "#FF0000"}]}).encode(),
            headers={"Authorization": f"Bearer {ADMIN}", "Content-Type": "application/json"})
        assert r.status == 507
        assert "no space left" in r.json()["error"]
        assert str(full) not in r.body.decode()
        assert (full / "small.ome.zarr/.zattrs").read_bytes() == before
        assert [p.name for p in (full / "small.ome.zarr").iterdir() if p.name.startswith(".zattrs.tmp")] == []
    finally:
        subprocess.run(["umount", str(full)], check=False)


def test_deeply_nested_json_body_is_400(live: LiveServer) -> None:
    r = live.get("/api/images/ramp/defaults", method="PUT", body=b"[" * 200_000,
                 headers={"Authorization": f"Bearer {ADMIN}", "Content-Type": "application/json"})
    assert r.status == 400 and r.json() == {"error": "the JSON body is nested too deeply"}
    r = live.get("/api/admin/images/ramp/withdraw", method="POST", body=b"[" * 200_000,
                 headers={"Authorization": f"Bearer {ADMIN}"})
    assert r.status == 400


# -- point 5: HTTP as RFC 9110 says ---------------------------------------------------------------------


@pytest.mark.parametrize("url", [CHUNK, CHUNK + "?v=1", "/data/ramp.ome.zarr/.zattrs",
                                 "/api/images/ramp/thumbnail.png"])
def test_ranges_and_preconditions(live: LiveServer, url: str) -> None:
    whole = live.get(url)
    assert whole.status == 200
    for bad in ("bytes=0-1,4-5", "bytes=5-2", "bytes=x-y", "lines=0-1", "bytes=--1"):
        r = live.get(url, headers={"Range": bad})
        assert (r.status, r.body) == (200, whole.body), bad
    etag = whole.header("ETag")
    r = live.get(url, headers={"If-None-Match": etag, "Range": "bytes=0-1"})
    assert (r.status, r.body) == (304, b"")
    r = live.get(url, headers={"If-Unmodified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"})
    assert r.status == 412 and set(r.json()) == {"error"}
    r = live.get(url, headers={"If-Match": '"other"'})
    assert r.status == 412
    r = live.get(url, headers={"Range": "bytes=2-5"})
    assert (r.status, r.body) == (206, whole.body[2:6])
    assert r.header("Content-Range") == f"bytes 2-5/{len(whole.body)}"


@pytest.mark.parametrize("method", ["get", "Get", "head", "pOST"])
def test_method_names_are_case_sensitive(live: LiveServer, method: str) -> None:
    for url in (CHUNK, "/api/images", "/api/images/ramp"):
        r = live.get(url, method=method)
        assert r.status == 405, (method, url)
        assert "GET" in (r.header("Allow") or "")


# -- point 7: say less to strangers ---------------------------------------------------------------------


def test_health_counts_only_images_anonymous_callers_see(live: LiveServer) -> None:
    assert live.get("/api/health").json()["images"] == 2
    DataDir(live.data_dir).set_private("ramp", True)
    assert live.get("/api/health").json()["images"] == 1
    DataDir(live.data_dir).withdraw("small")
    assert live.get("/api/health").json()["images"] == 0


def test_error_messages_carry_no_server_paths(serve_app, data_dir: Path, tmp_path: Path) -> None:
    live = serve_app(data_dir, webclient_dir=tmp_path / "nowhere")
    os.symlink("/etc", data_dir / "out.ome.zarr")
    (data_dir / "ramp.ome.zarr/0/.zarray").write_text("{garbage")
    for url in ("/", "/view/small", "/viewer/x.js", "/data/out.ome.zarr/.zattrs", "/api/images/ramp",
                "/data/ramp.ome.zarr/0/0/0/0/9/9", "/data/small.ome.zarr/nope"):
        r = live.get(url, headers=JSON)
        assert r.status >= 400, url
        body = r.body.decode()
        for secret in (str(data_dir), str(tmp_path), "/etc", "/tmp"):
            assert secret not in body, (url, body)


def test_private_metadata_is_cached_privately_and_varies_on_the_cookie(live: LiveServer) -> None:
    data = DataDir(live.data_dir)
    data.set_private("ramp", True)
    token = access.sign(data.signing_secret(create=True), "ramp", int(time.time()) + 600)
    by_cookie = live.get("/api/images/ramp", headers={"Cookie": f"{access.cookie_name('ramp')}={token}"})
    assert by_cookie.status == 200
    assert by_cookie.header("Cache-Control").startswith("private")
    assert "Cookie" in by_cookie.header("Vary")
    by_header = live.get("/api/images/ramp", headers={"Authorization": f"Bearer {READER}"})
    assert by_header.header("Cache-Control").startswith("private")
    public = live.get("/api/images/small")
    assert not public.header("Cache-Control").startswith("private")


# -- point 8: thumbnails of withdrawn/private images are images ------------------------------------------


def png_text(body: bytes) -> str:
    import zlib

    assert body[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, i = {}, 8
    while i < len(body):
        n = int.from_bytes(body[i:i + 4], "big")
        chunks.setdefault(body[i + 4:i + 8], []).append(body[i + 8:i + 8 + n])
        i += 12 + n
    assert zlib.decompress(b"".join(chunks[b"IDAT"]))
    return b"".join(chunks.get(b"tEXt", [])).decode("latin-1")


def test_withdrawn_thumbnail_is_a_410_png_placeholder(live: LiveServer) -> None:
    DataDir(live.data_dir).withdraw("ramp", "consent revoked")
    r = live.get("/api/images/ramp/thumbnail.png", headers=IMG)
    assert r.status == 410
    assert r.header("Content-Type") == "image/png"
    assert "withdrawn" in png_text(r.body)
    assert r.header("Access-Control-Allow-Origin") == "*"
    j = live.get("/api/images/ramp/thumbnail.png", headers=JSON)
    assert (j.status, j.json()) == (410, {"error": "image 'ramp' was withdrawn: consent revoked"})


def test_private_thumbnail_without_token_is_a_401_png_placeholder(live: LiveServer) -> None:
    DataDir(live.data_dir).set_private("ramp", True)
    r = live.get("/api/images/ramp/thumbnail.png", headers=IMG)
    assert (r.status, r.header("Content-Type")) == (401, "image/png")
    assert "private" in png_text(r.body)
    picture = imagecodecs.png_decode(r.body)  # a real picture, as a browser decodes it
    assert picture.shape[1] >= 64 and len(np.unique(picture)) > 1
    assert live.get("/api/images/ramp/thumbnail.png", headers=JSON).status == 401
    assert live.get("/api/images/ramp/thumbnail.png").header("Content-Type") == "application/json"
    assert live.get("/api/images/ramp/thumbnail.png", headers={"Authorization": f"Bearer {READER}"}).status == 200


# -- point 3: an alias shares its target's state ------------------------------------------------------------


def test_an_alias_shares_its_targets_state_on_every_url(live: LiveServer) -> None:
    os.symlink("ramp.ome.zarr", live.data_dir / "alias.ome.zarr")
    urls = ["/api/images/alias", "/api/images/alias/thumbnail.png", "/data/alias.ome.zarr/.zattrs",
            "/data/alias.ome.zarr/0/.zarray", "/data/alias.ome.zarr/0/0/0/0/0/0"]
    assert [live.get(u).status for u in urls] == [200] * len(urls)
    urls.append("/view/alias")  # (no viewer page in these tests: 404 while served)
    ids = lambda: [e["id"] for e in live.get("/api/images").json()["images"]]  # noqa: E731
    assert ids() == ["alias", "ramp", "small"]
    assert subprocess.run([str(Path(__file__).parents[2] / ".venv/bin/chromatile"), "withdraw",
                           str(live.data_dir), "ramp"], capture_output=True, check=False).returncode == 0
    for u in urls:
        assert live.get(u, headers=JSON).status == 410, u
    assert ids() == ["small"]
    DataDir(live.data_dir).restore("ramp")
    DataDir(live.data_dir).set_private("ramp", True)
    for u in urls:
        assert live.get(u, headers=JSON).status == 401, u
    assert ids() == ["small"]
    assert live.get("/api/health").json()["images"] == 1
