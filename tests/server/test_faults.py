"""`chromatile serve` under faults: a worker killed, clients that never read, a stop under load.

Every test runs the real server (granian, worker processes) on a loopback port and waits for the
events it asserts on; the only time limits are the ones the contract states (a tile within 2 s).
"""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import socket
import subprocess
import termios
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from fcntl import ioctl
from pathlib import Path
from typing import Any

import pytest
from conftest import CHROMATILE, fetch, free_port, wait_for, wait_for_port

from chromatile.commands.serve import DRAIN_SECONDS, KILL_TIMEOUT
from chromatile.http.slowclients import BufferedBodies

TILE = "/data/ramp.ome.zarr/0/0/0/0/1/1"
BUNDLE_SIZE = 1_400_000  # the viewer bundle's size, the body the slow clients asked for


def workers_of(pid: int) -> list[int]:
    return sorted(int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split())


def tile_urls(data_dir: Path) -> list[str]:
    store = data_dir / "ramp.ome.zarr"
    return ["/data/ramp.ome.zarr/" + p.relative_to(store).as_posix() for p in sorted(store.rglob("*"))
            if p.is_file() and p.name.isdigit()]


def wait_until_every_worker_answers(base: str, proc: Any, count: int) -> list[int]:
    """Wait until `count` workers run and each has answered a request (needs CHROMATILE_DEBUG_HEADERS)."""
    seen: set[int] = set()

    def all_answered() -> bool:
        pids = workers_of(proc.pid)
        if len(pids) != count:
            return False
        # each new connection goes to whichever worker accepts first: ask until every one answered
        seen.add(int(fetch(base, TILE, timeout=10).header("X-Chromatile-Worker") or 0))
        return set(pids) <= seen

    wait_for(all_answered, timeout=60, what=f"{count} workers answering")
    return workers_of(proc.pid)


@dataclass
class Sent:
    """One request of a keep-alive client: when it was sent and how it ended."""

    started: float
    sent: float = 0.0
    ended: float = 0.0
    status: int | None = None  # None: no answer (the connection failed)
    connection: str | None = None  # the answer's Connection header
    worker: str | None = None
    error: str | None = None


@dataclass
class KeepAliveLoad:
    """`clients` threads, each sending tile requests back to back on a keep-alive connection.

    A client reconnects after an answer with `Connection: close` or a failed request; with
    `stop_on_failure` it stops at its first failure (the server is going away).
    """

    port: int
    urls: list[str]
    clients: int
    stop_on_failure: bool = False
    records: list[Sent] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> None:
        self.threads = [threading.Thread(target=self._client, args=(k,), daemon=True) for k in range(self.clients)]
        for t in self.threads:
            t.start()

    def finish(self, timeout: float = 60) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=timeout)
        assert not any(t.is_alive() for t in self.threads), "a client hung"

    def answered(self) -> int:
        with self.lock:
            return sum(r.status is not None for r in self.records)

    def _client(self, k: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        i = k * 7
        while not self.stop.is_set():
            url = self.urls[i % len(self.urls)]
            i += 1
            rec = Sent(started=time.monotonic())
            try:
                conn.request("GET", url)
                rec.sent = time.monotonic()  # the request's bytes are in the kernel, on their way
                r = conn.getresponse()
                r.read()
                rec.status, rec.connection = r.status, r.getheader("Connection")
                rec.worker = r.getheader("X-Chromatile-Worker")
            except (OSError, http.client.HTTPException) as exc:
                rec.error = f"{type(exc).__name__}: {exc}"
                conn.close()
            rec.ended = time.monotonic()
            with self.lock:
                self.records.append(rec)
            if rec.error and self.stop_on_failure:
                return
        conn.close()


def test_a_killed_worker_is_replaced_and_requests_keep_being_answered(serve_process, data_dir: Path) -> None:
    base, proc = serve_process(data_dir, "--workers", "2", "--threads", "2",
                               env={"CHROMATILE_DEBUG_HEADERS": "1"})
    port = int(base.rsplit(":", 1)[1])
    victim, survivor = wait_until_every_worker_answers(base, proc, 2)
    load = KeepAliveLoad(port, tile_urls(data_dir), clients=4)
    load.start()
    try:
        wait_for(lambda: load.answered() >= 200, what="200 answers before the kill")
        killed_at = time.monotonic()
        os.kill(victim, signal.SIGKILL)
        # a new worker replaces the dead one, and answers
        replaced = wait_for(lambda: [p for p in workers_of(proc.pid) if p not in (victim, survivor)],
                            timeout=60, what="a replacement worker")
        # (the load's clients keep their connections to the survivor: new connections reach it)
        wait_for(lambda: fetch(base, TILE, timeout=10).header("X-Chromatile-Worker") == str(replaced[0]),
                 timeout=60, what="an answer from the replacement worker")
        after = load.answered()
        wait_for(lambda: load.answered() >= after + 200, what="200 more answers")
    finally:
        load.finish()
    assert proc.poll() is None, "the server exited"
    since_kill = [r for r in load.records if r.started >= killed_at]
    answered = [r for r in since_kill if r.status == 200]
    assert len(answered) >= 0.95 * len(since_kill), [r.error for r in since_kill if r.status != 200]
    assert workers_of(proc.pid) == sorted([survivor, replaced[0]])
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=DRAIN_SECONDS + KILL_TIMEOUT + 20) == 0



def test_a_worker_that_dies_again_at_once_stops_the_server_with_status_1(serve_process, data_dir: Path) -> None:
    # a crash loop (e.g. a broken install): the supervisor must see it, not a server limping on
    base, proc = serve_process(data_dir, "--workers", "2", env={"CHROMATILE_DEBUG_HEADERS": "1"})
    first, second = wait_until_every_worker_answers(base, proc, 2)
    os.kill(first, signal.SIGKILL)
    replaced = wait_for(lambda: [p for p in workers_of(proc.pid) if p not in (first, second)] if proc.poll() is None
                        else None, timeout=60, what="a replacement worker")
    os.kill(replaced[0], signal.SIGKILL)  # within 5.5 s of its start
    assert proc.wait(timeout=DRAIN_SECONDS + KILL_TIMEOUT + 20) == 1

def non_readers(port: int, path: str, count: int, pipelined: int) -> list[socket.socket]:
    """`count` connections with a tiny receive buffer, each pipelining `pipelined` GETs of `path` and
    never reading an answer."""
    socks = []
    request = f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode() * pipelined
    for _ in range(count):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.connect(("127.0.0.1", port))
        s.sendall(request)
        socks.append(s)
    return socks


def unread_bytes(s: socket.socket) -> int:
    return int.from_bytes(ioctl(s.fileno(), termios.FIONREAD, b"\0\0\0\0"), "little")


def timed_tile(base: str) -> tuple[int, float]:
    t0 = time.monotonic()
    r = fetch(base, TILE, timeout=10)
    return r.status, time.monotonic() - t0


def test_forty_clients_that_never_read_the_bundle_do_not_starve_a_tile(serve_process, data_dir: Path,
                                                                        tmp_path: Path) -> None:
    webclient = tmp_path / "webclient"
    (webclient / "dist").mkdir(parents=True)
    bundle = os.urandom(BUNDLE_SIZE)
    (webclient / "dist" / "chromatile.js").write_bytes(bundle)
    base, proc = serve_process(data_dir, "--workers", "2",
                               env={"CHROMATILE_DEBUG_HEADERS": "1", "CHROMATILE_WEBCLIENT_DIR": str(webclient)})
    port = int(base.rsplit(":", 1)[1])
    wait_until_every_worker_answers(base, proc, 2)
    socks = non_readers(port, "/viewer/dist/chromatile.js", 40, 20)
    try:
        # the attack is in place: the server is answering every one of them, and none reads
        wait_for(lambda: all(unread_bytes(s) > 0 for s in socks), what="answers queued on all 40 connections")
        for _ in range(3):
            status, took = timed_tile(base)
            assert status == 200
            assert took < 2.0, f"a tile took {took:.2f} s with 40 non-reading clients"
        # the bodies are whole: one of them, read now, is the bundle
        first = socks[0]
        first.settimeout(30)
        received = b""
        while (end := received.find(b"\r\n\r\n")) < 0 or len(received) < end + 4 + BUNDLE_SIZE:
            received += first.recv(1 << 20)
        head, body = received[:end], received[end + 4:end + 4 + BUNDLE_SIZE]
        assert head.startswith(b"HTTP/1.1 200")
        assert body == bundle
    finally:
        for s in socks:
            s.close()
    assert fetch(base, "/api/health").status == 200


def test_clients_that_never_read_a_big_file_hold_a_bounded_number_of_threads(serve_process, data_dir: Path) -> None:
    # bigger than what is handed to granian whole: it is streamed, from a thread that waits on the client
    big = data_dir / "ramp.ome.zarr/0/0/0/0/0/0"
    big.write_bytes(os.urandom(16 << 20))
    base, proc = serve_process(data_dir, "--workers", "2", "--threads", "4", env={"CHROMATILE_DEBUG_HEADERS": "1"})
    port = int(base.rsplit(":", 1)[1])
    wait_until_every_worker_answers(base, proc, 2)
    socks = non_readers(port, "/data/ramp.ome.zarr/0/0/0/0/0/0", 40, 5)
    try:
        wait_for(lambda: all(unread_bytes(s) > 0 for s in socks), what="answers queued on all 40 connections")
        for _ in range(3):
            status, took = timed_tile(base)
            assert status == 200
            assert took < 2.0, f"a tile took {took:.2f} s with 40 non-reading clients"
        # the ones beyond the streaming slots were told to come back later
        heads = [s.recv(4096) for s in socks]
        busy = [h for h in heads if h.startswith(b"HTTP/1.1 503")]
        assert busy and all(b"retry-after: 1" in h.lower() for h in busy)
        assert sum(h.startswith(b"HTTP/1.1 200") for h in heads) <= 2 * 3  # 2 workers x (4 - 1) threads
    finally:
        for s in socks:
            s.close()
    # the slots come back when those clients are gone: the big file is served again, to every worker
    served: set[str] = set()

    def big_file_from_every_worker() -> bool:
        r = fetch(base, "/data/ramp.ome.zarr/0/0/0/0/0/0", timeout=30)
        if r.status == 200 and r.body == big.read_bytes():
            served.add(r.header("X-Chromatile-Worker") or "")
        return len(served) == 2

    wait_for(big_file_from_every_worker, timeout=60, what="the big file served by both workers again")


def test_sigterm_answers_every_request_sent_before_it_and_closes_connections_while_draining(
        serve_process, data_dir: Path) -> None:
    base, proc = serve_process(data_dir, "--workers", "2", env={"CHROMATILE_DEBUG_HEADERS": "1"})
    port = int(base.rsplit(":", 1)[1])
    wait_until_every_worker_answers(base, proc, 2)
    load = KeepAliveLoad(port, tile_urls(data_dir), clients=8, stop_on_failure=True)
    load.start()
    try:
        wait_for(lambda: load.answered() >= 300, what="300 answers before the stop")
        signalled = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=DRAIN_SECONDS + KILL_TIMEOUT + 20)
        stopped = time.monotonic()
    finally:
        load.finish()
    assert code == 0
    assert stopped - signalled < DRAIN_SECONDS + KILL_TIMEOUT + 5
    before = [r for r in load.records if r.sent and r.sent < signalled]
    unanswered = [r.error for r in before if r.status != 200]
    assert not unanswered, f"{len(unanswered)} of {len(before)} requests sent before SIGTERM got no answer"
    # while draining, answers say `Connection: close` ...
    closing = sorted((r for r in load.records if r.connection == "close"), key=lambda r: r.ended)
    assert closing, "no answer said Connection: close"
    # ... every one of them: a request sent after the first such answer arrived met a draining server
    later = [r for r in load.records if r.started > closing[0].ended and r.status is not None]
    assert all(r.connection == "close" for r in later)
    assert all(r.connection != "close" for r in load.records if r.ended < signalled)


# docs/server.md, "Internet-facing": nginx takes the clients, chromatile only ever talks to nginx
INTERNET_FACING = """
  limit_conn_zone $binary_remote_addr zone=perip:10m;
  upstream chromatile { server UPSTREAM; keepalive 32; }
  server {
    listen LISTEN;
    client_header_timeout 10s;
    client_body_timeout 10s;
    send_timeout 10s;
    keepalive_timeout 30s;
    client_max_body_size 1m;
    limit_conn perip 64;
    location / {
      proxy_pass http://chromatile;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_buffering on;
      proxy_buffers 16 64k;
    }
  }
"""


@pytest.fixture
def nginx_front(tmp_path: Path) -> Iterator[Callable[[str], str]]:
    """Factory: nginx with the internet-facing recipe in front of `upstream`; stopped after the test."""
    procs: list[subprocess.Popen[bytes]] = []

    def start(upstream: str) -> str:
        prefix = tmp_path / f"nginx{len(procs)}"
        prefix.mkdir()
        port = free_port()
        temp = "\n".join(f"  {k}_temp_path {prefix}/{k};" for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        recipe = (INTERNET_FACING.replace("UPSTREAM", upstream.removeprefix("http://"))
                  .replace("LISTEN", f"127.0.0.1:{port}"))
        (prefix / "nginx.conf").write_text(f"""
{"user root;" if os.geteuid() == 0 else ""}
worker_processes 1;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 512; }}
http {{
  access_log off;
{temp}
{recipe}
}}
""")
        proc = subprocess.Popen([shutil.which("nginx") or "/usr/sbin/nginx", "-p", str(prefix), "-c",
                                 str(prefix / "nginx.conf"), "-e", str(prefix / "error.log")],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(proc)
        wait_for_port(port, proc)
        return f"http://127.0.0.1:{port}"

    yield start
    for proc in procs:
        proc.send_signal(signal.SIGQUIT)
        proc.wait(timeout=10)


def test_internet_facing_nginx_recipe_shields_even_a_plain_granian(nginx_front, data_dir: Path,
                                                                    tmp_path: Path) -> None:
    # chromatile's app under granian's own defaults, without `chromatile serve`'s protections (that
    # starved like `serve` did): nginx buffering whole answers alone must keep tiles flowing
    webclient = tmp_path / "webclient"
    (webclient / "dist").mkdir(parents=True)
    bundle = os.urandom(BUNDLE_SIZE)
    (webclient / "dist" / "chromatile.js").write_bytes(bundle)
    port = free_port()
    log = open(tmp_path / "granian.log", "wb")  # noqa: SIM115 - owned by the process
    granian = subprocess.Popen(
        [str(CHROMATILE.parent / "granian"), "--interface", "wsgi", "--factory", "--http", "1", "--no-ws",
         "--workers", "2", "--blocking-threads", "4", "--port", str(port), "chromatile:create_app"],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        env={**os.environ, "CHROMATILE_DATA_DIR": str(data_dir), "CHROMATILE_WEBCLIENT_DIR": str(webclient)})
    log.close()
    try:
        wait_for_port(port, granian)
        base = nginx_front(f"127.0.0.1:{port}")
        wait_for(lambda: fetch(base, TILE, timeout=10).status == 200, what="a tile through nginx")
        nginx_port = int(base.rsplit(":", 1)[1])
        socks = non_readers(nginx_port, "/viewer/dist/chromatile.js", 40, 20)
        try:
            wait_for(lambda: all(unread_bytes(s) > 0 for s in socks), what="answers queued on all 40 connections")
            for _ in range(3):
                status, took = timed_tile(base)
                assert status == 200
                assert took < 2.0, f"a tile took {took:.2f} s through nginx with 40 non-reading clients"
        finally:
            for s in socks:
                s.close()
    finally:
        granian.send_signal(signal.SIGTERM)
        try:
            granian.wait(timeout=30)
        except subprocess.TimeoutExpired:
            granian.kill()
            granian.wait()



def test_buffered_bodies_hands_small_bodies_over_whole_and_bounds_big_streams() -> None:
    # the middleware alone, with bodies of unknown length (a generator, no Content-Length)
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        yield from [b"x" * 100] * int(environ["PARTS"])

    wrapped = BufferedBodies(app, limit=1000, streams=1, retry_after=3)
    started: list[str] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        started.append(status)

    small = wrapped({"PARTS": "10"}, start_response)
    assert small == [b"x" * 1000]  # one part: the server writes it without a Python thread
    big = wrapped({"PARTS": "30"}, start_response)
    refused = wrapped({"PARTS": "30"}, start_response)  # the only streaming slot is taken
    assert started == ["200 OK", "200 OK", "503 Service Unavailable"]
    assert b"".join(refused).startswith(b'{"error": "server busy')
    assert b"".join(big) == b"x" * 3000
    big.close()  # the server closes the body when the send ends: the slot is free again
    again = wrapped({"PARTS": "30"}, start_response)
    assert started[-1] == "200 OK" and b"".join(again) == b"x" * 3000
