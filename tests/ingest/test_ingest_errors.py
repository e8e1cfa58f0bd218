"""Bad input: one line naming the file and the problem, exit code 2, nothing left behind, and an
existing store never damaged."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import tifffile
from ingest_helpers import entries, level, run_cli, zattrs

from chromatile import cli
from chromatile.ingest import IngestError, ingest


def good_tiff(path, value=1, shape=(40, 50)):
    tifffile.imwrite(path, np.full(shape, value, np.uint16), compression="zlib", rowsperstrip=8)
    return path


def check_cli_error(capsys, args, *expected):
    """In-process CLI: exit 2, one line on stderr starting with the program name, naming ``expected``."""
    assert cli.main(["ingest", *map(str, args)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("chromatile: error: "), err
    for text in expected:
        assert str(text) in err
    return err


def make_truncated(tmp_path):
    src = tmp_path / "cut.tif"
    tifffile.imwrite(src, np.random.default_rng(0).integers(0, 60000, (200, 300), dtype=np.uint16),
                     compression="zlib", tile=(64, 64))
    data = src.read_bytes()
    # keep the header and first IFD (tifffile writes IFDs after the data) but cut the tile data short:
    # rewrite the file with tile bytes zeroed from the middle on and the end removed
    with tifffile.TiffFile(src) as tif:
        page = tif.pages[0]
        last = max(o + c for o, c in zip(page.dataoffsets, page.databytecounts, strict=False))
        cut = page.dataoffsets[len(page.dataoffsets) // 2] + 3
    src.write_bytes(data[:cut] + b"\0" * (last - cut) + data[last:])
    return src


def make_short(tmp_path):
    src = tmp_path / "short.tif"
    tifffile.imwrite(src, np.arange(200 * 300, dtype=np.uint16).reshape(200, 300), rowsperstrip=20)
    data = src.read_bytes()
    with tifffile.TiffFile(src) as tif:
        end = max(tif.pages[0].dataoffsets) + 10
    # the IFD sits before the data here? keep whatever IFD bytes exist, drop the pixel tail
    src.write_bytes(data[: max(end, 400)])
    return src


def write_file(name, content):
    """A maker of a file with the given bytes or text."""
    def make(folder):
        path = folder / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
        return path
    return make


def write_array(name, array):
    """A maker of a TIFF holding ``array``."""
    def make(folder):
        tifffile.imwrite(folder / name, array)
        return folder / name
    return make


def make_empty_folder(folder):
    (folder / "empty").mkdir()
    return folder / "empty"


BAD_INPUTS = {
    "not-tiff": (write_file("notes.tif", "hello, I am text"), "not a TIFF file"),
    "corrupt-header": (write_file("bad.tif", b"II*\x00" + b"\xff" * 64), "TIFF"),
    "truncated-data": (make_truncated, "corrupt or truncated"),
    "short-file": (make_short, "truncated"),
    "missing": (lambda folder: folder / "nope.tif", "no such file"),
    "empty-folder": (make_empty_folder, "holds no .tif"),
    "int16": (write_array("s.tif", np.zeros((4, 4), np.int16)), "pixel type int16 is not supported"),
    "uint32": (write_array("u.tif", np.zeros((4, 4), np.uint32)), "pixel type uint32"),
    "float32": (write_array("f.tif", np.zeros((4, 4), np.float32)), "--rescale LO,HI"),
}


@pytest.mark.parametrize("name", BAD_INPUTS)
def test_bad_input_in_process(tmp_path, capsys, name):
    make, expected = BAD_INPUTS[name]
    src = make(tmp_path)
    dest = tmp_path / "data"
    err = check_cli_error(capsys, [src, dest], src, expected)
    assert "Traceback" not in err
    assert not dest.exists()  # not even the DEST_DIR it would have created


def test_mixed_slice_sizes(tmp_path, capsys):
    folder = tmp_path / "slices"
    folder.mkdir()
    good_tiff(folder / "z1.tif")
    good_tiff(folder / "z2.tif", shape=(40, 51))
    check_cli_error(capsys, [folder, tmp_path / "out"], folder / "z2.tif", "40x51", "z1.tif is 40x50")
    assert not (tmp_path / "out").exists()


def test_corrupt_slice_in_folder_is_named(tmp_path, capsys):
    folder = tmp_path / "slices"
    folder.mkdir()
    for z in range(3):
        good_tiff(folder / f"slice_{z:03d}.tif")
    (folder / "slice_001.tif").write_bytes((folder / "slice_001.tif").read_bytes()[:100])
    check_cli_error(capsys, [folder, tmp_path / "out"], folder / "slice_001.tif", "TIFF")
    assert not (tmp_path / "out").exists()


def test_slice_holding_a_stack_is_refused(tmp_path, capsys):
    folder = tmp_path / "slices"
    folder.mkdir()
    tifffile.imwrite(folder / "a0.tif", np.zeros((2, 8, 8), np.uint16), photometric="minisblack")
    check_cli_error(capsys, [folder, tmp_path / "out"], folder / "a0.tif", "must hold one Z plane")


def test_folder_with_unsupported_dtype_names_first_slice(tmp_path, capsys):
    folder = tmp_path / "slices"
    folder.mkdir()
    for z in range(2):
        tifffile.imwrite(folder / f"s{z}.tif", np.zeros((8, 8), np.float32))
    check_cli_error(capsys, [folder, tmp_path / "out"], folder, "pixel type float32", "--rescale")
    assert not (tmp_path / "out").exists()


def test_zero_size_image(tmp_path, capsys):
    src = tmp_path / "zero.tif"
    with pytest.warns(UserWarning):
        tifffile.imwrite(src, np.zeros((0, 10), np.uint16))
    check_cli_error(capsys, [src, tmp_path / "out"], src, "zero-size")
    assert not (tmp_path / "out").exists()


def test_zero_width_tag(tmp_path, capsys):
    src = good_tiff(tmp_path / "w0.tif")
    with tifffile.TiffFile(src, mode="r+") as tif:
        tif.pages[0].tags["ImageWidth"].overwrite(0)
    check_cli_error(capsys, [src, tmp_path / "out"], src)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("bad_id", ["a/b", "..", "a..b", ".hidden", "", "x" * 129, "sp ace"])
def test_bad_id(tmp_path, capsys, bad_id):
    src = good_tiff(tmp_path / "ok.tif")
    check_cli_error(capsys, [src, tmp_path / "out", "--id", bad_id], "invalid id")
    assert not (tmp_path / "out").exists()


def test_unwritable_destination(tmp_path, capsys):
    src = good_tiff(tmp_path / "ok.tif")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    check_cli_error(capsys, [src, blocker], blocker, "not a directory")
    check_cli_error(capsys, [src, blocker / "sub"], blocker / "sub", "cannot create")
    assert blocker.read_text() == "x"


def test_destination_that_refuses_new_entries(tmp_path, capsys):
    # /proc/self is a directory in which nobody, root included, can create anything
    src = good_tiff(tmp_path / "ok.tif")
    check_cli_error(capsys, [src, "/proc/self"], "/proc/self", "not writable")
    check_cli_error(capsys, [src, "/proc/self/new/deeper"], "/proc/self/new/deeper", "cannot create")


@pytest.mark.parametrize("args,expected", [
    (["--tile", "100"], "power of two"),
    (["--workers", "0"], "--workers 0"),
    (["--rescale", "5,1"], "LO < HI"),
    (["--rescale", "a,b"], "two numbers"),
])
def test_bad_options(tmp_path, capsys, args, expected):
    src = good_tiff(tmp_path / "ok.tif")
    check_cli_error(capsys, [src, tmp_path / "out", *args], expected)
    assert not (tmp_path / "out").exists()


def test_subprocess_error_is_one_line_without_traceback(tmp_path):
    src = tmp_path / "x.tif"
    src.write_bytes(b"GIF89a not a tiff")
    proc = run_cli("ingest", src, tmp_path / "out")
    assert proc.returncode == 2
    assert proc.stderr == f"chromatile: error: {src}: not a TIFF file\n"
    assert proc.stdout == ""
    assert not (tmp_path / "out").exists()

    corrupt = tmp_path / "corrupt.tif"
    corrupt.write_bytes(b"II*\x00" + b"\xff" * 64)
    proc = run_cli("ingest", corrupt, tmp_path / "out")
    assert (proc.returncode, proc.stderr) == (2, f"chromatile: error: {corrupt}: TIFF file holds no image\n")


def test_console_script_reports_errors_too(tmp_path):
    exe = __import__("pathlib").Path(sys.executable).with_name("chromatile")
    proc = subprocess.run([str(exe), "ingest", str(tmp_path / "none.tif"), str(tmp_path)], capture_output=True,
                          text=True, timeout=60, check=False)
    assert proc.returncode == 2
    assert proc.stderr == f"chromatile: error: {tmp_path / 'none.tif'}: no such file or folder\n"


def test_existing_store_needs_overwrite(tmp_path, capsys):
    src = good_tiff(tmp_path / "img.tif", value=1)
    dest = tmp_path / "data"
    ingest(src, dest, tile=64)
    before = (dest / "img.ome.zarr" / ".zattrs").read_text()
    good_tiff(src, value=2)
    check_cli_error(capsys, [src, dest], dest / "img.ome.zarr", "--overwrite")
    assert (dest / "img.ome.zarr" / ".zattrs").read_text() == before
    assert entries(dest) == ["img.ome.zarr"]

    assert cli.main(["ingest", str(src), str(dest), "--overwrite", "--quiet"]) == 0
    assert level(dest / "img.ome.zarr", 0).max() == 2
    assert entries(dest) == ["img.ome.zarr"]


def test_failed_overwrite_keeps_old_store(tmp_path, capsys):
    src = good_tiff(tmp_path / "img.tif", value=3)
    dest = tmp_path / "data"
    ingest(src, dest, tile=64)
    before = {p: p.read_bytes() for p in (dest / "img.ome.zarr").rglob("*") if p.is_file()}
    bad = make_truncated(tmp_path)
    check_cli_error(capsys, [bad, dest, "--id", "img", "--overwrite"], "corrupt or truncated")
    assert {p: p.read_bytes() for p in (dest / "img.ome.zarr").rglob("*") if p.is_file()} == before
    assert entries(dest) == ["img.ome.zarr"]


def dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_rerun_after_crash_cleans_partial_store(tmp_path):
    src = good_tiff(tmp_path / "img.tif")
    dest = tmp_path / "data"
    stale = dest / f".img.ome.zarr.partial-{dead_pid()}-0badf00d"
    (stale / "0").mkdir(parents=True)
    (stale / "0" / ".zarray").write_text("{half written")
    other = dest / ".other.ome.zarr.partial-1-00000000"  # pid 1 is alive: a running writer's, left alone
    other.mkdir()
    ingest(src, dest, tile=64)
    assert entries(dest) == [other.name, "img.ome.zarr"]


def test_rerun_after_crash_mid_swap_restores_old_store(tmp_path):
    src = good_tiff(tmp_path / "img.tif", value=4)
    dest = tmp_path / "data"
    ingest(src, dest, tile=64)
    # a crash between "rename old aside" and "rename new in" leaves only the old store, aside
    aside = dest / f".img.ome.zarr.old-{dead_pid()}-12345678"
    (dest / "img.ome.zarr").rename(aside)
    with pytest.raises(IngestError, match="--overwrite"):
        ingest(src, dest, tile=64)
    assert entries(dest) == ["img.ome.zarr"]
    assert level(dest / "img.ome.zarr", 0).max() == 4


def test_cli_success_json_summary(tmp_path, capsys):
    src = good_tiff(tmp_path / "img.tif", value=9, shape=(100, 70))
    assert cli.main(["ingest", str(src), str(tmp_path / "d"), "--id", "j1", "--tile", "64", "--json",
                     "--compression", "zlib", "--workers", "1"]) == 0
    out = capsys.readouterr().out
    summary = __import__("json").loads(out)
    assert summary["id"] == "j1" and summary["shape"] == [1, 1, 1, 100, 70] and summary["levels"] == 2
    assert summary["chunks_total"] == 4 + 1 and summary["chunks_written"] == 5
    assert zattrs(tmp_path / "d" / "j1.ome.zarr")["chromatile"]["tile"] == 64
    zarray = __import__("json").loads((tmp_path / "d" / "j1.ome.zarr" / "0" / ".zarray").read_text())
    assert zarray["compressor"] == {"id": "zlib", "level": 6}


FILE_SIZE_LIMITED = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG, like a full disk
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
from chromatile import cli
sys.exit(cli.main(sys.argv[1:]))
"""


def test_write_failure_midway_is_a_clean_error(tmp_path):
    src = tmp_path / "noise.tif"
    tifffile.imwrite(src, np.random.default_rng(0).integers(0, 65535, (200, 300), dtype=np.uint16))
    dest = tmp_path / "data"
    proc = subprocess.run([sys.executable, "-c", FILE_SIZE_LIMITED, "ingest", str(src), str(dest), "--tile", "64",
                           "--compression", "none"], capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith(f"chromatile: error: {dest}: cannot write the store (") and proc.stderr.count("\n") == 1
    assert not dest.exists()
