"""`chromatile serve` under load and at shutdown: bursts get answers (200, or 503 + Retry-After) and leave
no memory or descriptors behind; SIGTERM lets a request in flight finish."""

from __future__ import annotations

import os
import re
import signal
import socket
import threading
from pathlib import Path

from conftest import fetch, wait_for


def workers_of(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def rss_kb(pids: list[int]) -> int:
    return sum(int(re.search(r"VmRSS:\s+(\d+)", Path(f"/proc/{p}/status").read_text()).group(1)) for p in pids)


def fds(pids: list[int]) -> int:
    return sum(len(os.listdir(f"/proc/{p}/fd")) for p in pids)


def port(base: str) -> int:
    return int(base.rsplit(":", 1)[1])


def established(pid: int, server_port: int) -> int:
    """Connections to `server_port` the server's processes still hold open (from /proc/net/tcp)."""
    hex_port = f":{server_port:04X}"
    count = 0
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            # 01 ESTABLISHED, 08 CLOSE_WAIT: the server side of a connection it has not closed yet
            if local.endswith(hex_port) and state in ("01", "08"):
                count += 1
    return count


def burst(base: str, urls: list[str], clients: int, per_client: int) -> list[tuple[int, str | None]]:
    """`clients` threads at once, each fetching `per_client` URLs back to back."""
    answers: list[tuple[int, str | None]] = []
    lock = threading.Lock()
    start = threading.Barrier(clients)

    def client(k: int) -> None:
        start.wait()
        for i in range(per_client):
            r = fetch(base, urls[(k * 7 + i) % len(urls)], timeout=30)
            with lock:
                answers.append((r.status, r.header("Retry-After")))

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a client hung"
    return answers


def test_a_burst_beyond_capacity_is_queued_or_shed_and_leaks_nothing(serve_process, data_dir: Path) -> None:
    # 2 workers x 2 threads, and a guard that sheds after 1 ms: far beyond capacity on purpose
    base, proc = serve_process(data_dir, "--workers", "2", "--threads", "2", "--max-concurrency", "1",
                                env={"CHROMATILE_ACQUIRE_TIMEOUT": "0.001", "CHROMATILE_RETRY_AFTER": "2"})
    store = data_dir / "ramp.ome.zarr"
    urls = ["/data/ramp.ome.zarr/" + p.relative_to(store).as_posix() for p in sorted(store.rglob("*"))
            if p.is_file() and p.name.isdigit()]
    urls += ["/api/images/ramp", "/api/images", "/data/ramp.ome.zarr/0/.zarray"]
    pids = wait_for(lambda: len(workers_of(proc.pid)) == 2 and workers_of(proc.pid), what="both workers up")

    burst(base, urls, 50, 20)  # warm-up: imports, caches, thread pools reach their steady size
    # the clients' connections are closed on our side; wait until the workers closed theirs too
    wait_for(lambda: not established(proc.pid, port(base)), what="the warm-up's connections closed")
    rss0, fds0 = rss_kb(pids), fds(pids)
    answers = []
    for _ in range(3):
        answers += burst(base, urls, 50, 40)
    assert len(answers) == 3 * 50 * 40
    statuses = {s for s, _ in answers}
    assert statuses <= {200, 503}, statuses
    assert all(ra == "2" for s, ra in answers if s == 503)
    assert any(s == 200 for s, _ in answers)

    assert workers_of(proc.pid) == pids  # no worker died or was replaced
    # descriptors: back to the baseline once the clients' connections are gone
    wait_for(lambda: not established(proc.pid, port(base)), what="the bursts' connections closed")
    assert fds(pids) <= fds0
    # memory: three times the burst did not grow the workers beyond allocator noise
    assert rss_kb(pids) - rss0 < 8 * 1024, (rss0, rss_kb(pids))
    assert fetch(base, "/api/health", timeout=5).status == 200


def test_sigterm_lets_a_request_in_flight_finish_and_stops_listening(serve_process, data_dir: Path,
                                                                    tmp_path: Path) -> None:
    big = data_dir / "ramp.ome.zarr/0/0/0/0/0/0"
    payload = os.urandom(16 << 20)  # larger than every socket buffer: the send is still going on
    big.write_bytes(payload)
    base, proc = serve_process(data_dir, "--workers", "1")
    log = tmp_path / f"serve-{port(base)}.log"
    sock = socket.create_connection(("127.0.0.1", port(base)), timeout=20)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    sock.sendall(b"GET /data/ramp.ome.zarr/0/0/0/0/0/0 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    received = sock.recv(65536)
    proc.send_signal(signal.SIGTERM)
    # the drain is over and the worker was told to stop; the send must go on
    wait_for(lambda: "Stopping worker-1" in log.read_text(), what="the worker told to stop")
    while chunk := sock.recv(1 << 20):
        received += chunk
    sock.close()
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert body == payload
    assert proc.wait(timeout=20) == 0
    try:
        socket.create_connection(("127.0.0.1", port(base)), timeout=2).close()
        listening = True
    except OSError:
        listening = False
    assert not listening
