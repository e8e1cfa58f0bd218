"""Withdrawal: 410 JSON on every URL of the image at once, in every worker process; restore undoes it."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

from conftest import ADMIN, CHROMATILE, LiveServer, fetch

from chromatile.cli import main

URLS = ["/api/images/ramp", "/api/images/ramp/thumbnail.png", "/data/ramp.ome.zarr/.zattrs",
        "/data/ramp.ome.zarr/0/.zarray", "/data/ramp.ome.zarr/0/0/0/0/0/0",
        "/data/ramp.ome.zarr/0/0/1/0/0/0", "/data/ramp.ome.zarr/2/0/0/2/0/0", "/view/ramp"]


def ids(live: LiveServer) -> list[str]:
    return [e["id"] for e in live.get("/api/images").json()["images"]]


def test_withdraw_and_restore_commands_on_a_running_server(live: LiveServer, capsys) -> None:
    for url in URLS[:5]:
        live.get(url)  # warm every cache there is
    assert main(["withdraw", str(live.data_dir), "ramp", "--reason", "consent revoked"]) == 0
    assert "withdrew ramp" in capsys.readouterr().out
    for url in URLS:
        r = live.get(url, headers={"If-None-Match": "*"})
        assert r.status == 410, url
        assert r.json() == {"error": "image 'ramp' was withdrawn: consent revoked"}
    assert ids(live) == ["small"]
    assert live.get("/data/small.ome.zarr/0/0/0/0/0/0").status == 200

    assert main(["restore", str(live.data_dir), "ramp"]) == 0
    assert [live.get(u).status for u in URLS[:5]] == [200] * 5
    assert ids(live) == ["ramp", "small"]


def test_withdraw_unknown_image_and_restore_of_a_served_one_are_user_errors(data_dir: Path, capsys) -> None:
    assert main(["withdraw", str(data_dir), "nope"]) == 2
    assert capsys.readouterr().err == "chromatile: error: no image 'nope'\n"
    assert main(["restore", str(data_dir), "ramp"]) == 2
    assert "is not withdrawn" in capsys.readouterr().err
    assert main(["withdraw", str(data_dir / "missing"), "ramp"]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_admin_http_endpoints(live: LiveServer) -> None:
    url = "/api/admin/images/ramp/withdraw"
    assert live.get(url, method="POST").status == 401
    assert live.get(url, method="POST", headers={"Authorization": "Bearer wrong"}).status == 403
    assert live.get(url, method="GET").status == 405
    ok = live.get(url, method="POST", headers={"Authorization": f"Bearer {ADMIN}",
                                               "Content-Type": "application/json"},
                  body=b'{"reason": "flagged"}')
    assert ok.json() == {"id": "ramp", "action": "withdraw", "changed": True, "withdrawn": True,
                         "private": False}
    assert live.get("/api/images/ramp").json() == {"error": "image 'ramp' was withdrawn: flagged"}
    back = live.get("/api/admin/images/ramp/restore", method="POST",
                    headers={"Authorization": f"Bearer {ADMIN}"})
    assert back.json()["withdrawn"] is False
    assert live.get("/api/images/ramp").status == 200
    unknown = live.get("/api/admin/images/nope/withdraw", method="POST",
                       headers={"Authorization": f"Bearer {ADMIN}"})
    assert unknown.status == 404


def test_admin_endpoints_are_off_without_a_configured_token(serve_app, data_dir: Path) -> None:
    live = serve_app(data_dir, admin_token=None)
    r = live.get("/api/admin/images/ramp/withdraw", method="POST", headers={"Authorization": "Bearer x"})
    assert r.status == 403
    assert "disabled" in r.json()["error"]


def test_withdrawal_reaches_every_worker_process_within_one_request(serve_process, data_dir: Path) -> None:
    base, _proc = serve_process(data_dir, "--workers", "2", "--threads", "2",
                                 env={"CHROMATILE_DEBUG_HEADERS": "1"})
    # every kind of URL: the chunk fast path, the careful path, the catalog entry
    urls = ["/data/ramp.ome.zarr/0/0/0/0/0/0", "/api/images/ramp", "/data/ramp.ome.zarr/.zattrs",
            "/api/images/ramp/thumbnail.png", "/data/ramp.ome.zarr/0/0/1/0/0/0"]

    def burst(n: int = 60) -> list[tuple[int, str]]:
        answers: list[tuple[int, str]] = []
        lock = threading.Lock()

        def worker(k: int) -> None:
            for i in range(n // 6):
                url = urls[(k + i) % len(urls)]
                r = fetch(base, url)
                status = r.status if url != urls[-1] or r.status != 404 else 200  # absent chunk: 404
                with lock:
                    answers.append((status, r.header("X-Chromatile-Worker")))
        threads = [threading.Thread(target=worker, args=(k,)) for k in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        return answers

    def until_both_workers(expect: int) -> None:
        """Bursts until both worker pids answered; every answer on the way must be `expect`."""
        seen: set[str] = set()
        for _ in range(20):
            answers = burst()
            assert {s for s, _ in answers} == {expect}
            seen |= {pid for _, pid in answers}
            if len(seen) == 2:
                return
        raise AssertionError(f"only workers {seen} answered")

    until_both_workers(200)  # both workers warm: they cached whatever they cache
    done = subprocess.run([str(CHROMATILE), "withdraw", str(data_dir), "ramp"], capture_output=True, check=False)
    assert done.returncode == 0, done.stderr
    until_both_workers(410)
    subprocess.run([str(CHROMATILE), "restore", str(data_dir), "ramp"], check=True, capture_output=True)
    until_both_workers(200)
