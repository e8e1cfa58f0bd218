"""Fixtures of the server tests: small stores with known pixels, real servers on 127.0.0.1."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tifffile
from werkzeug.serving import make_server

from chromatile import create_app
from chromatile.ingest import ingest

ROOT = Path(__file__).resolve().parents[2]
CHROMATILE = ROOT / ".venv" / "bin" / "chromatile"
ADMIN = "admin-secret-token"
READER = "reader-token"


def ramp_pixels() -> np.ndarray:
    """(C=2, Z=3, Y=70, X=100): channel 0 a ramp from 0 to 65535 shifted per Z; channel 1 mostly 0."""
    y, x = 140, 200
    ramp = np.linspace(0, 65535, y * x).round().astype(np.uint16).reshape(y, x)
    ch0 = np.stack([np.roll(ramp, z * 7, axis=1) for z in range(3)])
    ch1 = np.zeros((3, y, x), np.uint16)
    ch1[1, 5:40, 10:60] = 1234  # one non-zero tile at (z=1, y=0, x=0); all others absent
    return np.stack([ch0, ch1])


def small_pixels() -> np.ndarray:
    """(C=1, Z=1, 80, 80): values 0, 10, 20, ... row by row."""
    return (np.arange(80 * 80, dtype=np.uint16).reshape(1, 1, 80, 80) * 10)


def write_tiff(path: Path, pixels: np.ndarray, names: list[str]) -> Path:
    """An OME-TIFF (CZYX, 0.5 x 0.5 x 1 micrometre pixels) holding `pixels` exactly."""
    tifffile.imwrite(path, pixels, ome=True, metadata={
        "axes": "CZYX", "Channel": {"Name": names},
        "PhysicalSizeX": 0.5, "PhysicalSizeY": 0.5, "PhysicalSizeZ": 1.0,
        "PhysicalSizeXUnit": "µm", "PhysicalSizeYUnit": "µm", "PhysicalSizeZUnit": "µm"})
    return path


def ingest_pixels(data_dir: Path, image_id: str, pixels: np.ndarray, names: list[str], src_dir: Path) -> Path:
    """Write a TIFF and ingest it with chromatile's own ingest (tile 64) into `data_dir`."""
    tif = write_tiff(src_dir / f"{image_id}.ome.tif", pixels, names)
    return ingest(tif, data_dir, image_id=image_id, tile=64, workers=1).store_path


@pytest.fixture(scope="session")
def seed_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DATA_DIR ingested once: `ramp` (2 channels, 3 Z, 140x200, tile 64) and `small` (1 ch, 80x80)."""
    root = tmp_path_factory.mktemp("seed")
    src = tmp_path_factory.mktemp("tiffs")
    ingest_pixels(root, "ramp", ramp_pixels(), ["DAPI", "GFP"], src)
    ingest_pixels(root, "small", small_pixels(), ["Actin"], src)
    return root


@pytest.fixture
def data_dir(seed_dir: Path, tmp_path: Path) -> Path:
    """A fresh copy of the seed DATA_DIR per test (tests withdraw, rewrite and delete)."""
    target = tmp_path / "data"
    shutil.copytree(seed_dir, target, symlinks=True)
    return target


@dataclass
class Answer:
    """One HTTP answer, read completely."""

    status: int
    headers: Message
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def header(self, name: str) -> str | None:
        return self.headers.get(name)


def fetch(base: str, path: str, method: str = "GET", headers: dict[str, str] | None = None,
          body: bytes | None = None, timeout: float = 20) -> Answer:
    """Send `path` verbatim (http.client does not normalise `..` or `%2e`, unlike urllib3)."""
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        return Answer(r.status, r.headers, r.read())
    finally:
        conn.close()


@dataclass
class LiveServer:
    """A real threaded werkzeug server running one app on a loopback port."""

    url: str
    app: Any
    data_dir: Path
    _server: Any = field(repr=False, default=None)

    def get(self, path: str, **kw: Any) -> Answer:
        return fetch(self.url, path, **kw)


@pytest.fixture
def serve_app(tmp_path: Path) -> Iterator[Callable[..., LiveServer]]:
    """Factory: start `create_app(settings)` on 127.0.0.1:<free port>; stopped after the test."""
    started: list[tuple[Any, threading.Thread]] = []

    def start(data_dir: Path, **settings: Any) -> LiveServer:
        settings.setdefault("webclient_dir", tmp_path / "no-webclient")
        app = create_app({"data_dir": data_dir, "admin_token": ADMIN, "read_tokens": (READER,),
                          **settings})
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        started.append((server, thread))
        return LiveServer(f"http://127.0.0.1:{server.server_port}", app, data_dir, server)

    yield start
    for server, thread in started:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def live(serve_app: Callable[..., LiveServer], data_dir: Path) -> LiveServer:
    """The app on the per-test DATA_DIR with default settings."""
    return serve_app(data_dir)


def free_port() -> int:
    """A loopback port that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen[Any], timeout: float = 30) -> None:
    """Block until something accepts on the port; fail early if the process died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listens on port {port} after {timeout} s")


@pytest.fixture
def serve_process(tmp_path: Path) -> Iterator[Callable[..., tuple[str, subprocess.Popen[Any]]]]:
    """Factory: `chromatile serve DATA_DIR --workers N` in a subprocess; SIGTERM and reaped after."""
    procs: list[subprocess.Popen[Any]] = []

    def start(data_dir: Path, *args: str, env: dict[str, str] | None = None) -> tuple[str, subprocess.Popen[Any]]:
        port = free_port()
        log = open(tmp_path / f"serve-{port}.log", "wb")  # noqa: SIM115 - owned by the process
        proc = subprocess.Popen(
            [str(CHROMATILE), "serve", str(data_dir), "--port", str(port), "--no-access-log", *args],
            stdout=log, stderr=subprocess.STDOUT,
            env={**os.environ, "CHROMATILE_ADMIN_TOKEN": ADMIN, **(env or {})})
        log.close()
        procs.append(proc)
        wait_for_port(port, proc)
        return f"http://127.0.0.1:{port}", proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real redis-server on a free loopback port, no persistence; stopped at the end."""
    port = free_port()
    folder = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, proc)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def wait_for(condition: Callable[[], Any], timeout: float = 30, what: str = "the condition") -> Any:
    """Poll `condition` until it returns something truthy (returned); fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not happen within {timeout} s")
        time.sleep(0.02)
