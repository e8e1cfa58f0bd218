"""The ingest command's output: progress bar on a terminal, nothing with --quiet, a JSON summary with
--json, and --workers defaulting to every core."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import struct
import subprocess
import sys
import termios

import numpy as np
import pytest
import tifffile
from ingest_helpers import check_pyramid, run_cli

from chromatile import cli


def write_image(path, shape=(2, 300, 700)):
    a = np.random.default_rng(3).integers(0, 4000, size=shape, dtype=np.uint16)
    tifffile.imwrite(path, a, photometric="minisblack", metadata={"axes": "CYX"}, tile=(64, 64))
    return a


def run_on_tty(*args: str, columns: int = 0) -> tuple[int, str]:
    """Run the CLI with stdout and stderr on a pseudo-terminal; returns exit code and everything shown."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 30, columns, 0, 0))
    proc = subprocess.Popen([sys.executable, "-m", "chromatile.cli", *args], stdin=subprocess.DEVNULL,
                            stdout=follower, stderr=follower, close_fds=True)
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    return proc.wait(timeout=60), shown.decode(errors="replace")


@pytest.mark.parametrize("columns", [0, 100])  # 0: a terminal that does not report its size
def test_progress_bar_on_terminal(tmp_path, columns):
    write_image(tmp_path / "img.tif")
    code, shown = run_on_tty("ingest", str(tmp_path / "img.tif"), str(tmp_path / "out"), "--tile", "64",
                             columns=columns)
    assert code == 0, shown
    # 2 channels x (5x11 + 3x6 + 2x3 + 1x2 + 1) tiles = 2 x 82
    final = shown.replace("\r\n", "\n").split("\r")[-1]
    assert re.search(r"img: 100%\|.*\| 164/164 \[\d\d:\d\d<00:00, +[\d.]+tile/s\]", final), shown
    assert re.search(r"\d+/164 \[\d\d:\d\d<\d\d:\d\d", shown)  # done/total, elapsed<ETA
    assert str(tmp_path / "out" / "img.ome.zarr") + ": 700x300 px, 2 channel(s)" in shown


def test_quiet_prints_nothing_even_on_terminal(tmp_path):
    write_image(tmp_path / "img.tif")
    code, shown = run_on_tty("ingest", str(tmp_path / "img.tif"), str(tmp_path / "out"), "--tile", "64", "--quiet")
    assert (code, shown) == (0, "")
    assert (tmp_path / "out" / "img.ome.zarr" / ".zattrs").is_file()


def test_no_progress_bar_when_not_a_terminal(tmp_path):
    write_image(tmp_path / "img.tif")
    proc = run_cli("ingest", tmp_path / "img.tif", tmp_path / "out", "--tile", "64")
    assert proc.returncode == 0 and proc.stderr == ""
    assert proc.stdout.startswith(f"{tmp_path / 'out' / 'img.ome.zarr'}: 700x300 px, 2 channel(s), 1 z, 1 t, uint16")


def test_json_summary_and_default_workers(tmp_path, capsys):
    a = write_image(tmp_path / "img.tif")
    assert cli.main(["ingest", str(tmp_path / "img.tif"), str(tmp_path / "out"), "--tile", "64", "--json"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    summary = json.loads(captured.out)
    assert summary["workers"] == len(os.sched_getaffinity(0))
    assert summary == {
        "id": "img", "store": str(tmp_path / "out" / "img.ome.zarr"), "shape": [1, 2, 1, 300, 700],
        "dtype": "uint16", "levels": 5, "tile": 64, "compression": "blosc-zstd", "ngff": "0.4", "shard": None,
        "chunks_written": 164,
        "chunks_total": 164, "workers": summary["workers"], "seconds": summary["seconds"],
        "source_bytes": a.nbytes, "mb_per_s": summary["mb_per_s"],
    }
    check_pyramid(tmp_path / "out" / "img.ome.zarr", a[None, :, None])


def test_workers_option_gives_identical_store(tmp_path, capsys):
    a = write_image(tmp_path / "img.tif", shape=(1, 200, 330))
    for workers in ("1", "3"):
        assert cli.main(["ingest", str(tmp_path / "img.tif"), str(tmp_path / workers), "--tile", "64",
                         "--workers", workers, "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["workers"] == int(workers)
    one, three = (sorted(p for p in (tmp_path / w / "img.ome.zarr").rglob("*") if p.is_file()) for w in ("1", "3"))
    assert [p.relative_to(tmp_path / "1") for p in one] == [p.relative_to(tmp_path / "3") for p in three]
    assert all(p.read_bytes() == q.read_bytes() for p, q in zip(one, three, strict=False))
    check_pyramid(tmp_path / "3" / "img.ome.zarr", a[None, :, None])


def test_help_lists_every_option():
    proc = run_cli("ingest", "--help")
    assert proc.returncode == 0
    for option in ("--id", "--tile", "--compression", "--workers", "--rescale", "--overwrite", "--quiet", "--json"):
        assert option in proc.stdout
