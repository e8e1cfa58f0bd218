"""The plain handler layer, the response policy and the conditional rules, tested without a socket."""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import ADMIN, READER

from chromatile import purge
from chromatile.access import Credentials
from chromatile.catalog import Catalog
from chromatile.config import Settings
from chromatile.errors import BadRequest, Forbidden, NotFound, Withdrawn
from chromatile.handlers import admin, files, images
from chromatile.handlers.services import Services
from chromatile.http import conditional, policy
from chromatile.http.guard import ConcurrencyGuard
from chromatile.store import DataDir

NOBODY = Credentials()


class DictCache:
    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def get(self, key: str) -> Any:
        return self.values.get(key)

    def set(self, key: str, value: Any, timeout: int | None = None) -> None:
        self.values[key] = value


def services(data_dir: Path, **settings: Any) -> Services:
    config = Settings(data_dir=data_dir, admin_token=ADMIN, read_tokens=(READER,), **settings)
    data = DataDir(data_dir)
    return Services(settings=config, data=data, catalog=Catalog(data, DictCache()))


def test_handlers_answer_catalog_metadata_and_files_without_http(data_dir: Path) -> None:
    svc = services(data_dir)
    assert [e["id"] for e in images.catalog(svc, None, "")["images"]] == ["ramp", "small"]
    summary, grant = images.metadata(svc, "ramp", NOBODY, "/base")
    assert summary["store_url"] == "/base/data/ramp.ome.zarr" and not grant.private
    chunk = files.store_file(svc, "ramp.ome.zarr", "0/0/0/0/0/0", NOBODY)
    assert chunk.real == str(data_dir / "ramp.ome.zarr/0/0/0/0/0/0")
    assert chunk.cache_control == "public, max-age=31536000, immutable"
    meta = files.store_file(svc, "ramp.ome.zarr", ".zattrs", NOBODY)
    assert meta.cache_control == "no-cache"
    assert files.store_file(svc, "ramp.ome.zarr", "0/0/1/0/0/0", NOBODY).real is None  # absent: fill
    with pytest.raises(BadRequest):
        files.store_file(svc, "ramp.ome.zarr", "0/0/0/0/9/0", NOBODY)


def test_one_access_decision_for_withdrawn_and_private(data_dir: Path) -> None:
    svc = services(data_dir)
    svc.data.set_private("ramp", True)
    with pytest.raises(Forbidden, match="is private"):
        images.metadata(svc, "ramp", NOBODY, "")
    _, grant = images.metadata(svc, "ramp", Credentials(authorization=f"Bearer {READER}"), "")
    assert grant.private and not grant.via_cookie
    token = __import__("chromatile.access", fromlist=["sign"]).sign(
        svc.data.signing_secret(create=True), "ramp", int(time.time()) + 60)
    _, grant = images.metadata(svc, "ramp", Credentials(cookie_token=token), "")
    assert grant.via_cookie
    svc.data.withdraw("ramp", "gone")
    for call in (lambda: images.metadata(svc, "ramp", Credentials(authorization=f"Bearer {READER}"), ""),
                 lambda: files.store_file(svc, "ramp.ome.zarr", "0/0/0/0/0/0", NOBODY),
                 lambda: images.thumbnail(svc, "ramp", NOBODY)):
        with pytest.raises(Withdrawn, match="gone"):
            call()
    with pytest.raises(NotFound):
        images.metadata(svc, "nope", NOBODY, "")


def test_health_counts_what_an_anonymous_caller_sees(data_dir: Path) -> None:
    svc = services(data_dir)
    assert images.health(svc) == {"status": "ok", "images": 2}
    svc.data.set_private("ramp", True)
    assert images.health(svc)["images"] == 1
    svc.data.withdraw("small")
    assert images.health(svc)["images"] == 0


def test_purge_policy_is_shared_and_the_admin_route_does_not_wait(data_dir: Path, tmp_path: Path) -> None:
    assert [purge.wanted(a, True, "x") for a in admin.ACTIONS] == [True, False, True, False]
    assert not purge.wanted("withdraw", False, "x") and not purge.wanted("withdraw", True, None)
    marker = tmp_path / "purged"
    script = tmp_path / "hook.py"
    go = tmp_path / "go"
    # The hook finishes only once the test lets it: a route that waited for it would hang here (30 s),
    # then find the marker written.
    script.write_text("import sys, time, pathlib\n"
                      f"go = pathlib.Path({str(go)!r})\n"
                      "deadline = time.monotonic() + 30\n"
                      "while not go.exists() and time.monotonic() < deadline:\n    time.sleep(0.01)\n"
                      f"pathlib.Path({str(marker)!r}).write_text(sys.argv[1])\n")
    svc = services(data_dir, purge_command=f"{sys.executable} {script} {{id}}")
    result = admin.change_state(svc, "withdraw", "ramp", {"reason": "x"})
    assert not marker.exists(), "the route waited for the purge hook"
    assert result["purge"] == "started"
    go.touch()
    hooks = [t for t in threading.enumerate() if t.name == "purge-ramp"]
    for t in hooks:
        t.join(timeout=30)
    assert marker.read_text() == "ramp"
    assert "purge" not in admin.change_state(svc, "restore", "ramp", None)


def test_cli_runs_the_same_policy_from_settings_in_the_environment(data_dir: Path, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from chromatile.cli import main

    marker = tmp_path / "purged"
    script = tmp_path / "hook.py"
    script.write_text(f"import sys, pathlib\npathlib.Path({str(marker)!r}).write_text(sys.argv[1])\n")
    monkeypatch.setenv("CHROMATILE_PURGE_COMMAND", f"{sys.executable} {script} {{id}}")
    assert main(["private", str(data_dir), "small"]) == 0
    assert marker.read_text() == "small"
    marker.unlink()
    assert main(["public", str(data_dir), "small"]) == 0
    assert not marker.exists()
    monkeypatch.setenv("CHROMATILE_PURGE_COMMAND", f"{sys.executable} -c 'raise SystemExit(3)'")
    assert main(["withdraw", str(data_dir), "small"]) == 2  # the hook failing is an error
    monkeypatch.setenv("CHROMATILE_CACHE_TYPE", "nonsense")  # read like the server reads it
    assert main(["restore", str(data_dir), "small"]) == 0
    assert main(["withdraw", str(data_dir), "small"]) == 2


def test_save_defaults_refuses_deep_json(data_dir: Path) -> None:
    with pytest.raises(BadRequest, match="nested too deeply"):
        admin.parse_body(b"[" * 200_000)
    assert admin.parse_body(b"") is None and admin.parse_body(b"{nope") is None


def test_cors_policy() -> None:
    assert policy.cors_headers(("*",), None)[0] == ("Access-Control-Allow-Origin", "*")
    specific = dict(policy.cors_headers(("https://a.example",), "https://a.example"))
    assert specific["Access-Control-Allow-Origin"] == "https://a.example"
    assert specific["Vary"] == "Origin"
    other = dict(policy.cors_headers(("https://a.example",), "https://b.example"))
    assert "Access-Control-Allow-Origin" not in other


def test_guard_503_carries_the_cors_policy_for_specific_origins() -> None:
    release = threading.Event()

    def slow(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        release.wait(10)
        start_response("200 OK", [])
        return [b""]

    guard = ConcurrencyGuard(slow, 1, 0.01, 1, ("https://a.example",))
    busy = threading.Thread(target=guard, args=({"REQUEST_METHOD": "GET"}, lambda *a: None))
    busy.start()
    seen: list[Any] = []
    try:
        while guard.slots._value != 0:  # wait for the slot to be taken
            time.sleep(0.001)
        body = guard({"REQUEST_METHOD": "GET", "HTTP_ORIGIN": "https://a.example"},
                     lambda status, headers: seen.extend([status, dict(headers)]))
    finally:
        release.set()
        busy.join()
    assert seen[0].startswith("503")
    assert seen[1]["Access-Control-Allow-Origin"] == "https://a.example"
    assert json.loads(b"".join(body))["error"].startswith("server busy")


ETAG = '"abc"'


@pytest.mark.parametrize(("headers", "status", "span"), [
    ({}, 200, None),
    ({"range": "bytes=0-9"}, 206, (0, 9)),
    ({"range": "bytes=-10"}, 206, (90, 99)),
    ({"range": "bytes=-1000"}, 206, (0, 99)),
    ({"range": "bytes=95-"}, 206, (95, 99)),
    ({"range": "bytes=90-1000"}, 206, (90, 99)),
    ({"range": "bytes=100-"}, 416, None),
    ({"range": "bytes=-0"}, 416, None),
    ({"range": "bytes=0-1,5-6"}, 200, None),  # multi-range: ignored
    ({"range": "bytes=9-1"}, 200, None),  # invalid: ignored
    ({"range": "items=0-1"}, 200, None),
    ({"range": "bytes=abc"}, 200, None),
    ({"if-none-match": ETAG, "range": "bytes=0-1"}, 304, None),
    ({"if-none-match": f"W/{ETAG}"}, 304, None),
    ({"if-match": f"W/{ETAG}"}, 412, None),  # If-Match compares strongly
    ({"if-match": ETAG, "range": "bytes=0-1"}, 206, (0, 1)),
    ({"if-unmodified-since": "Thu, 01 Jan 1970 00:00:01 GMT"}, 412, None),  # before mtime 1000
    ({"if-unmodified-since": "Tue, 01 Jan 2999 00:00:00 GMT"}, 200, None),
    ({"if-unmodified-since": "garbage"}, 200, None),
    ({"if-modified-since": "Tue, 01 Jan 2999 00:00:00 GMT"}, 304, None),
    ({"range": "bytes=0-1", "if-range": ETAG}, 206, (0, 1)),
    ({"range": "bytes=0-1", "if-range": '"other"'}, 200, None),
    ({"range": "bytes=0-1", "if-range": f"W/{ETAG}"}, 200, None),
    ({"range": "bytes=0-1", "if-range": "Thu, 01 Jan 1970 00:16:40 GMT"}, 206, (0, 1)),  # = mtime 1000
    ({"range": "bytes=0-1", "if-range": "Thu, 01 Jan 1970 00:16:41 GMT"}, 200, None),
])
def test_conditional_rules(headers: dict[str, str], status: int, span: tuple[int, int] | None) -> None:
    outcome = conditional.evaluate("GET", headers, ETAG, 1000, 100)  # type: ignore[arg-type]
    assert outcome.status == status
    if span:
        assert (outcome.start, outcome.end) == span


def test_range_is_ignored_on_head() -> None:
    assert conditional.evaluate("HEAD", {"range": "bytes=0-1"}, ETAG, 1000, 100).status == 200
    assert os.sep == "/"
