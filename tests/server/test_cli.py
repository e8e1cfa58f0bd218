"""`chromatile serve` (granian: workers, access log, graceful stop) and the small commands' errors."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest
from conftest import CHROMATILE, fetch, free_port, wait_for, wait_for_port

from chromatile.config import Settings, settings_env
from chromatile.errors import UserError


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CHROMATILE), *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, **(env or {})}, check=False)


def test_serve_refuses_a_missing_data_dir_in_one_line(tmp_path: Path) -> None:
    done = run("serve", str(tmp_path / "nope"), "--port", str(free_port()))
    assert done.returncode == 2
    assert done.stderr == f"chromatile: error: data directory '{tmp_path / 'nope'}' does not exist or is not a directory\n"


def test_serve_refuses_bad_settings_from_the_environment(data_dir: Path) -> None:
    done = run("serve", str(data_dir), env={"CHROMATILE_MAX_CONCURRENCY": "lots"})
    assert (done.returncode, done.stderr) == (2, "chromatile: error: CHROMATILE_MAX_CONCURRENCY='lots' is not a valid int\n")
    done = run("serve", str(data_dir), env={"CHROMATILE_CACHE_TYPE": "RedisCache"})
    assert done.returncode == 2
    assert "needs cache_redis_url" in done.stderr


@pytest.mark.parametrize(("sig", "access_log"), [(signal.SIGTERM, True), (signal.SIGINT, False)])
def test_serve_runs_worker_processes_and_stops_gracefully(data_dir: Path, tmp_path: Path,
                                                          sig: signal.Signals, access_log: bool) -> None:
    port = free_port()
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(CHROMATILE), "serve", str(data_dir), "--port", str(port), "--workers", "2",
                                 *([] if access_log else ["--no-access-log"])],
                                stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, proc)
        assert fetch(f"http://127.0.0.1:{port}", "/api/health").json() == {"status": "ok", "images": 2}
        # two worker processes under the main process (the second may still be starting)
        wait_for(lambda: len(Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()) == 2,
                 what="two worker processes")
    finally:
        proc.send_signal(sig)
        code = proc.wait(timeout=20)
    text = log.read_text()
    assert code == 0, text
    assert "Spawning worker-2" in text
    assert ('"GET /api/health HTTP/1.1" 200' in text) is access_log
    assert "Traceback" not in text


def test_settings_from_environment_and_mapping(tmp_path: Path) -> None:
    s = Settings.from_env({"CHROMATILE_DATA_DIR": str(tmp_path), "CHROMATILE_READ_TOKENS": "a, b",
                           "CHROMATILE_DEBUG_HEADERS": "yes", "CHROMATILE_SHARED_MAX_AGE": "60",
                           "CHROMATILE_ACQUIRE_TIMEOUT": "0.5"})
    assert (s.data_dir, s.read_tokens, s.debug_headers, s.shared_max_age, s.acquire_timeout) == (
        tmp_path, ("a", "b"), True, 60, 0.5)
    with pytest.raises(UserError, match="unknown setting"):
        Settings.from_mapping({"data_dir": tmp_path, "admin_tokn": "x"})
    with pytest.raises(UserError, match="cache_type 'MemcachedCache' is not one of SimpleCache, RedisCache, NullCache"):
        Settings.from_mapping({"data_dir": tmp_path, "cache_type": "MemcachedCache"})
    with pytest.raises(UserError, match="data_dir is required"):
        Settings.from_env({})


def test_settings_reach_serve_workers_unchanged_through_the_environment(tmp_path: Path) -> None:
    # `serve` hands its settings to worker processes as CHROMATILE_* variables
    s = Settings(data_dir=tmp_path, admin_token="adm", read_tokens=("a", "b"), cors_origins="https://x.org",
                 shared_max_age=60, acquire_timeout=0.25, debug_headers=True, max_concurrency=3,
                 x_accel_prefix="/_stores/")
    assert Settings.from_env(settings_env(s)) == s
    assert Settings.from_env(settings_env(Settings(data_dir=tmp_path))) == Settings(data_dir=tmp_path)


def test_sign_needs_an_existing_image_and_a_positive_lifetime(data_dir: Path) -> None:
    assert run("sign", str(data_dir), "nope").stderr == "chromatile: error: no image 'nope'\n"
    assert run("sign", str(data_dir), "ramp", "--expires", "0").returncode == 2
    assert not (data_dir / ".chromatile" / "secret").exists()
    first, second = run("sign", str(data_dir), "ramp"), run("sign", str(data_dir), "ramp")
    assert first.returncode == second.returncode == 0
    assert first.stdout.startswith("v1.") and first.stdout.count(".") == 2
    assert (data_dir / ".chromatile" / "secret").stat().st_mode & 0o777 == 0o600
