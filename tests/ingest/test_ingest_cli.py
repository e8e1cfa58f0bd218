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
        "source_bytes": a.nbytes, "mb_per_s": summary["mb_per_s"], "pixel_size": {}, "warnings": [],
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


def test_rescale_with_a_negative_low_end_as_the_docs_write_it(tmp_path):
    a = np.array([[-1000, 0, 1000, -2000, 3000]], np.int16)
    tifffile.imwrite(tmp_path / "signed.tif", a)
    proc = run_cli("ingest", tmp_path / "signed.tif", tmp_path / "out", "--rescale", "-1000,1000", "--quiet")
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")
    expected = np.array([[0, 32768, 65535, 0, 65535]], np.uint16)  # (v + 1000) * 65535 / 2000, half up, clipped
    check_pyramid(tmp_path / "out" / "signed.ome.zarr", expected[None, None, None])


def shaped_mismatch(path):
    """Two 64x64 pages whose tifffile 'shaped' description announces 2x64x63: tifffile logs an error."""
    tifffile.imwrite(path, np.arange(2 * 64 * 64, dtype=np.uint16).reshape(2, 64, 64))
    path.write_bytes(path.read_bytes().replace(b"[2, 64, 64]", b"[2, 64, 63]"))


def bad_tag(path, data=None, **options):
    """A TIFF whose Software tag has an invalid data type: tifffile logs `<TiffTag.fromfile> raised ...`."""
    tifffile.imwrite(path, np.arange(64 * 64, dtype=np.uint16).reshape(64, 64) if data is None else data,
                     software="chromatile-test-software", **options)
    raw = bytearray(path.read_bytes())
    with tifffile.TiffFile(path) as tif:
        offset = tif.pages[0].tags["Software"].offset
    struct.pack_into("<H", raw, offset + 2, 99)
    path.write_bytes(bytes(raw))


TIFFFILE_WORDS = ("tifffile", "TiffTag", "raised", "shaped series", "TiffFileError")


@pytest.mark.parametrize("make, expected", [
    (shaped_mismatch, "the image shape recorded in the file's description does not match its pages; the pages "
                      "were read as stored"),
    (bad_tag, "skipped unreadable TIFF tag Software (305): invalid data type 99"),
], ids=["shaped-mismatch", "bad-tag"])
def test_tifffile_log_lines_become_one_warning_in_our_words(tmp_path, make, expected):
    src = tmp_path / "odd.tif"
    make(src)
    proc = run_cli("ingest", src, tmp_path / "out", "--tile", "64")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == f"chromatile: warning: {src}: {expected}\n"
    assert proc.stdout.count("\n") == 1 and proc.stdout.startswith(str(tmp_path / "out" / "odd.ome.zarr"))
    assert not any(word in (proc.stdout + proc.stderr).replace(str(tmp_path), "") for word in TIFFFILE_WORDS)

    quiet = run_cli("ingest", src, tmp_path / "out", "--tile", "64", "--quiet", "--overwrite")
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", "")

    listed = run_cli("ingest", src, tmp_path / "out", "--tile", "64", "--json", "--overwrite")
    assert json.loads(listed.stdout)["warnings"] == [f"{src}: {expected}"]


@pytest.mark.parametrize("quiet", [[], ["--quiet"]], ids=["default", "quiet"])
def test_failed_ingest_of_a_file_tifffile_complains_about_is_one_error_line(tmp_path, quiet):
    src = tmp_path / "cut.tif"
    bad_tag(src, np.arange(200 * 300, dtype=np.uint16).reshape(200, 300), rowsperstrip=20)
    with tifffile.TiffFile(src) as tif:
        end = max(tif.pages[0].dataoffsets) + 10
    src.write_bytes(src.read_bytes()[:end])  # the IFD comes first here: cut the last strip short
    proc = run_cli("ingest", src, tmp_path / "out", *quiet)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith(f"chromatile: error: {src}: "), proc.stderr
    assert not any(word in proc.stderr.replace(str(tmp_path), "") for word in TIFFFILE_WORDS)


@pytest.mark.parametrize("resolution, unit, shown", [
    ((72, 72), "INCH", "72 pixels per inch"),  # what most image software writes
    ((96, 96), "INCH", "96 pixels per inch"),
    ((10, 10), "CENTIMETER", "10 pixels per cm"),  # vips: 1 pixel per mm
    ((72 / 2.54, 72 / 2.54), "CENTIMETER", "28.3465 pixels per cm"),  # 72 dpi written in cm
], ids=["72dpi", "96dpi", "vips-10-per-cm", "72dpi-in-cm"])
def test_software_default_resolution_is_an_unknown_pixel_size(tmp_path, resolution, unit, shown):
    src = tmp_path / "img.tif"
    tifffile.imwrite(src, np.ones((64, 64), np.uint16), resolution=resolution, resolutionunit=unit)
    proc = run_cli("ingest", src, tmp_path / "out", "--tile", "64")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"{tmp_path / 'out' / 'img.ome.zarr'}: 64x64 px, 1 channel(s), 1 z, 1 t, uint16, 1 levels, " \
        f"pixel size unknown, {proc.stdout.rsplit(', ', 1)[1]}"
    assert proc.stderr == (f"chromatile: warning: {src}: pixel size unknown: the resolution tags hold {shown}, "
                           "a default of image software, not a calibration\n")
    attrs = json.loads((tmp_path / "out" / "img.ome.zarr" / ".zattrs").read_text())
    assert all("unit" not in axis for axis in attrs["multiscales"][0]["axes"])
    assert attrs["multiscales"][0]["datasets"][0]["coordinateTransformations"][0]["scale"] == [1.0] * 5


@pytest.mark.parametrize("resolution, unit, expected", [
    ((1 / 0.0000325, 1 / 0.0000325), "CENTIMETER", 0.325),  # a real calibration: 0.325 um
    ((25400 / 6.5, 25400 / 6.5), "INCH", 6.5),
], ids=["0.325um-in-cm", "6.5um-in-inch"])
def test_calibrated_resolution_is_kept_and_shown(tmp_path, resolution, unit, expected):
    src = tmp_path / "img.tif"
    tifffile.imwrite(src, np.ones((64, 64), np.uint16), resolution=resolution, resolutionunit=unit)
    proc = run_cli("ingest", src, tmp_path / "out", "--tile", "64", "--json")
    assert proc.returncode == 0 and proc.stderr == ""
    summary = json.loads(proc.stdout)
    for axis in ("x", "y"):
        assert summary["pixel_size"][axis]["unit"] == "micrometer"
        assert abs(summary["pixel_size"][axis]["value"] - expected) < 1e-4
    assert summary["warnings"] == []
    plain = run_cli("ingest", src, tmp_path / "out2", "--tile", "64")
    assert f", 1 levels, pixel {summary['pixel_size']['x']['value']:g} x " in plain.stdout


def test_a_problem_in_every_slice_of_a_folder_is_one_line(tmp_path):
    folder = tmp_path / "slices"
    folder.mkdir()
    for z in range(3):
        tifffile.imwrite(folder / f"s{z}.tif", np.full((64, 64), z + 1, np.uint16), resolution=(72, 72),
                         resolutionunit="INCH")
    proc = run_cli("ingest", folder, tmp_path / "out", "--tile", "64")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == (f"chromatile: warning: {folder / 's0.tif'} (and 2 more slices): pixel size unknown: the "
                           "resolution tags hold 72 pixels per inch, a default of image software, not a calibration\n")
    assert ", 3 z, 1 t, uint16, 1 levels, pixel size unknown, " in proc.stdout
