"""Only files inside a store under DATA_DIR are ever served: every escape attempt is a JSON 4xx."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import LiveServer

SECRET = b"TOP-SECRET-OUTSIDE"


@pytest.fixture
def trap(live: LiveServer, tmp_path: Path) -> LiveServer:
    """Plant things an attacker would like to read, outside and inside DATA_DIR."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_bytes(SECRET)
    (outside / ".zattrs").write_bytes(SECRET)
    store = live.data_dir / "ramp.ome.zarr"
    os.symlink(outside / "secret", store / "0" / "0" / "0" / "0" / "0" / "9")  # chunk name, outside
    os.symlink(outside, live.data_dir / "escape.ome.zarr")  # a whole store outside
    (store / ".hidden").write_bytes(SECRET)
    (store / "0" / ".zattrs.tmp-x").write_bytes(SECRET)
    (live.data_dir / ".chromatile").mkdir(exist_ok=True)
    (live.data_dir / ".chromatile" / "secret").write_bytes(SECRET)
    (live.data_dir / ".staged.ome.zarr").mkdir()
    (live.data_dir / ".staged.ome.zarr" / ".zattrs").write_bytes(SECRET)
    return live


ATTEMPTS = [
    "/data/ramp.ome.zarr/../../outside/secret",
    "/data/ramp.ome.zarr/0/../../small.ome.zarr/.zattrs",
    "/data/ramp.ome.zarr/%2e%2e/%2e%2e/outside/secret",
    "/data/ramp.ome.zarr/%2E%2E%2F%2E%2E%2Foutside%2Fsecret",
    "/data/ramp.ome.zarr/0%2f..%2f..%2f..%2foutside%2fsecret",
    "/data/ramp.ome.zarr//etc/passwd",
    "/data/ramp.ome.zarr/%2fetc%2fpasswd",
    "/data/%2e%2e/outside/secret",
    "/data/..%2foutside%2fsecret",
    "/data/ramp.ome.zarr/0/0/0/0/0/9",
    "/data/escape.ome.zarr/secret",
    "/data/escape.ome.zarr/.zattrs",
    "/data/ramp.ome.zarr/.hidden",
    "/data/ramp.ome.zarr/0/.zattrs.tmp-x",
    "/data/.staged.ome.zarr/.zattrs",
    "/data/.chromatile/secret",
    "/data/ramp.ome.zarr/..%5c..%5coutside%5csecret",
    "/data/ramp.ome.zarr/0/0/0/0/0/0%00",
    "/api/images/..%2f..%2foutside",
    "/api/images/escape",
    "/api/images/escape/thumbnail.png",
    "/viewer/../../outside/secret",
    "/viewer/%2e%2e/%2e%2e/outside/secret",
    "/viewer/.hidden",
    "/viewer//etc/passwd",
]


@pytest.mark.parametrize("path", ATTEMPTS)
def test_escape_attempts_are_json_4xx(trap: LiveServer, path: str) -> None:
    r = trap.get(path)
    assert 400 <= r.status < 500, (path, r.status, r.body)
    assert SECRET not in r.body
    assert set(r.json()) == {"error"}


def test_the_planted_files_exist_so_the_refusals_mean_something(trap: LiveServer, tmp_path: Path) -> None:
    assert (trap.data_dir / "ramp.ome.zarr" / "0" / "0" / "0" / "0" / "0" / "9").read_bytes() == SECRET
    assert (trap.data_dir / "escape.ome.zarr" / ".zattrs").read_bytes() == SECRET
    assert trap.get("/data/ramp.ome.zarr/0/0/0/0/0/0").status == 200  # a neighbour is served


def test_a_symlinked_store_inside_data_dir_is_served(live: LiveServer) -> None:
    os.symlink(live.data_dir / "small.ome.zarr", live.data_dir / "alias.ome.zarr")
    r = live.get("/data/alias.ome.zarr/0/0/0/0/0/0")
    assert r.body == (live.data_dir / "small.ome.zarr/0/0/0/0/0/0").read_bytes()
