"""`chromatile ingest --ngff 0.5`: OME-Zarr 0.5 on Zarr v3 with sharding, equal to the 0.4 output.

The same source is ingested both ways; the 0.5 store must validate with ome_zarr_models.v05, read back
through zarr-python and ome-zarr-py with exactly the pixels and rendering metadata of the 0.4 store,
keep the `chromatile` block and thumbnail, and lay its shards out as the sharding spec says.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import google_crc32c
import numpy as np
import pytest
import tifffile
import zarr
from ingest_helpers import check_pyramid, entries, reference_downsample, run_cli
from ome_zarr.io import parse_url
from ome_zarr.reader import Reader
from ome_zarr_models.v05.image import Image as ImageV05

from chromatile.ingest import ingest
from chromatile.ingest.errors import IngestError

EMPTY = 2**64 - 1


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, np.ndarray]:
    """One OME-TIFF (2 channels, 3 z, 300 x 460, channel 1 zero outside a corner) as 0.4 and 0.5 stores.

    Tile 64 and shard 128: every level has edge shards, partial inner chunks and absent ones.
    """
    root = tmp_path_factory.mktemp("ngff05")
    rng = np.random.default_rng(5)
    a = rng.integers(0, 4000, size=(2, 3, 300, 460), dtype=np.uint16)
    a[1] = 0
    a[1, 1, 10:100, 20:200] = rng.integers(1, 60000, size=(90, 180), dtype=np.uint16)
    src = root / "pair.ome.tif"
    tifffile.imwrite(src, a, ome=True, metadata={
        "axes": "CZYX", "Channel": {"Name": ["DAPI", "GFP"]}, "PhysicalSizeX": 0.25, "PhysicalSizeY": 0.25,
        "PhysicalSizeXUnit": "µm", "PhysicalSizeYUnit": "µm"})
    v4 = ingest(src, root / "data", image_id="v4", tile=64, workers=2).store_path
    v5 = ingest(src, root / "data", image_id="v5", tile=64, workers=2, ngff="0.5", shard=128).store_path
    return v4, v5, a[None]


def test_validates_as_ome_zarr_05_and_equals_the_04_pixels(pair):
    v4, v5, source = pair
    group = zarr.open_group(str(v5), mode="r", zarr_format=3)
    ImageV05.from_zarr(group)  # raises on anything OME-Zarr 0.5 forbids
    levels = check_pyramid(v4, source)
    for n in range(levels):
        arr = group[str(n)]
        assert arr.shards == (1, 1, 1, min(128, -(-arr.shape[3] // 64) * 64), min(128, -(-arr.shape[4] // 64) * 64))
        assert arr.chunks == (1, 1, 1, 64, 64)
        np.testing.assert_array_equal(arr[...], zarr.open_group(str(v4), mode="r")[str(n)][...])
    np.testing.assert_array_equal(group["1"][...], reference_downsample(source))


def test_metadata_blocks_equal_the_04_store(pair):
    v4, v5, _ = pair
    old = json.loads((v4 / ".zattrs").read_text())
    doc = json.loads((v5 / "zarr.json").read_text())
    assert (doc["zarr_format"], doc["node_type"], doc["attributes"]["ome"]["version"]) == (3, "group", "0.5")
    ome = doc["attributes"]["ome"]
    ms_old, ms_new = old["multiscales"][0], ome["multiscales"][0]
    assert "version" not in ms_new and ms_old.pop("version") == "0.4"
    assert {**ms_old, "name": "v5"} == ms_new
    omero_old = old["omero"]
    assert omero_old.pop("version") == "0.4"
    assert {**omero_old, "name": "v5"} == ome["omero"]
    assert old["chromatile"].pop("absent")  # only 0.4 lists absent chunks (0.5: the shard index)
    assert doc["attributes"]["chromatile"] == old["chromatile"]  # stats, histograms, thumbnail, rendering
    assert (v5 / "thumbnail.png").read_bytes() == (v4 / "thumbnail.png").read_bytes()
    assert not (v5 / ".zattrs").exists() and not (v5 / ".zgroup").exists()


def test_ome_zarr_py_reads_the_same_image(pair):
    v4, v5, _ = pair
    nodes = {}
    for path in (v4, v5):
        node = next(iter(Reader(parse_url(str(path)))()))
        nodes[path.name] = node
    a, b = nodes["v4.ome.zarr"], nodes["v5.ome.zarr"]
    assert len(a.data) == len(b.data)
    for x, y in zip(a.data, b.data, strict=True):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
    for key in ("channel_names", "contrast_limits", "visible", "colormap"):
        assert a.metadata[key] == b.metadata[key], key
    assert a.metadata["channel_names"] == ["DAPI", "GFP"]


def test_shard_files_follow_the_sharding_spec(pair):
    _, v5, source = pair
    # level 0, channel 1, z 0 is all zeros: no shard file at all (readers use the fill value)
    assert not (v5 / "0" / "c" / "0" / "1" / "0").exists()
    # level 0 grid: 300 x 460 px -> 5 x 8 tiles of 64 -> 3 x 4 shards of 2 x 2 tiles
    shards = sorted(p.relative_to(v5 / "0" / "c" / "0" / "0" / "0").as_posix()
                    for p in (v5 / "0" / "c" / "0" / "0" / "0").rglob("*") if p.is_file())
    assert shards == [f"{r}/{c}" for r in range(3) for c in range(4)]
    edge = (v5 / "0" / "c" / "0" / "0" / "0" / "2" / "3").read_bytes()  # bottom right: 2 of 4 tiles inside
    index, crc = edge[-(4 * 16 + 4):-4], edge[-4:]
    assert int.from_bytes(crc, "little") == google_crc32c.value(index)
    entries_ = np.frombuffer(index, "<u8").reshape(4, 2)
    # grid row 4 (columns 6, 7) lies inside the image, row 5 outside: its entries say "absent"
    assert (entries_[2:] == EMPTY).all()
    spans = sorted((int(o), int(o + n)) for o, n in entries_[:2])
    assert spans[0][0] == 0 and spans[0][1] == spans[1][0] and spans[1][1] == len(edge) - 68  # packed, index last
    # channel 1, z 1 has data only in rows 10..99, columns 20..199: tiles (0..1, 0..3), shards 0/0 and 0/1
    sparse = v5 / "0" / "c" / "0" / "1" / "1"
    assert sorted(p.relative_to(sparse).as_posix() for p in sparse.rglob("*") if p.is_file()) == ["0/0", "0/1"]
    np.testing.assert_array_equal(zarr.open_array(str(v5 / "0"), mode="r")[0, 1], source[0, 1])


def test_far_fewer_files_than_04(pair):
    v4, v5, _ = pair
    count = lambda p: sum(1 for f in p.rglob("*") if f.is_file())  # noqa: E731
    assert count(v5) < count(v4) / 2


def test_cli_writes_05_and_reports_it(tmp_path):
    src = tmp_path / "img.tif"
    tifffile.imwrite(src, np.arange(200 * 300, dtype=np.uint16).reshape(200, 300))
    proc = run_cli("ingest", src, tmp_path / "out", "--ngff", "0.5", "--tile", "64", "--shard", "256", "--json")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert (summary["ngff"], summary["shard"]) == ("0.5", 256)
    assert zarr.open_group(str(tmp_path / "out" / "img.ome.zarr"), mode="r")["0"].shards == (1, 1, 1, 256, 256)


@pytest.mark.parametrize(("args", "message"), [
    (["--ngff", "0.5", "--tile", "64", "--shard", "100"], "--shard 100: the shard side must be a multiple of the tile size (64)"),
    (["--ngff", "0.5", "--tile", "128", "--shard", "64"], "--shard 64: the shard side must be a multiple of the tile size (128)"),
    (["--shard", "1024"], "--shard needs --ngff 0.5 (Zarr v2 has no sharding)"),
    (["--ngff", "0.5", "--compression", "zlib"], "--compression zlib: OME-Zarr 0.5 (Zarr v3) has no zlib codec; use "
                                                 "blosc-zstd, blosc-lz4, zstd, gzip or none"),
])
def test_bad_options_are_one_line_errors_and_leave_nothing(tmp_path, capsys, args, message):
    from chromatile import cli

    src = tmp_path / "img.tif"
    tifffile.imwrite(src, np.ones((100, 100), np.uint16))
    assert cli.main(["ingest", str(src), str(tmp_path / "out"), *args]) == 2
    assert capsys.readouterr().err == f"chromatile: error: {message}\n"
    assert entries(tmp_path / "out") == []


@pytest.mark.parametrize("compression", ["zstd", "gzip", "blosc-lz4", "none"])
def test_every_v3_codec_reads_back(tmp_path, compression):
    a = np.random.default_rng(2).integers(0, 65535, (1, 1, 1, 130, 150), dtype=np.uint16)
    src = tmp_path / "img.tif"
    tifffile.imwrite(src, a[0, 0, 0])
    store = ingest(src, tmp_path / "out", tile=64, ngff="0.5", shard=128, compression=compression).store_path
    np.testing.assert_array_equal(zarr.open_array(str(store / "0"), mode="r")[...], a)


def test_api_rejects_unknown_version(tmp_path):
    src = tmp_path / "img.tif"
    tifffile.imwrite(src, np.ones((10, 10), np.uint16))
    with pytest.raises(IngestError, match=r"--ngff 0\.6: choose 0\.4 or 0\.5"):
        ingest(src, tmp_path / "out", ngff="0.6")


FILE_SIZE_LIMITED = """
import resource, sys
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
from chromatile import cli
sys.exit(cli.main(sys.argv[1:]))
"""


def test_write_failure_midway_leaves_no_store(tmp_path):
    src = tmp_path / "noise.tif"
    tifffile.imwrite(src, np.random.default_rng(0).integers(0, 65535, (300, 300), dtype=np.uint16))
    dest = tmp_path / "data"
    proc = subprocess.run([sys.executable, "-c", FILE_SIZE_LIMITED, "ingest", str(src), str(dest), "--tile", "64",
                           "--compression", "none", "--ngff", "0.5", "--shard", "256"],
                          check=False, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith(f"chromatile: error: {dest}: cannot write the store (") and proc.stderr.count("\n") == 1
    assert not dest.exists()


# The peak RSS counter (VmHWM) is reset first: a forked child inherits its parent's high-water mark.
CHILD = """
import json, re, sys
with open("/proc/self/clear_refs", "w") as fh:
    fh.write("5")
from chromatile.ingest import ingest
result = ingest(sys.argv[1], sys.argv[2], tile=512, workers=2, ngff="0.5")
with open("/proc/self/status") as fh:
    peak = int(re.search(r"VmHWM:\\s+(\\d+) kB", fh.read()).group(1))
print(json.dumps({"rss_kib": peak, "written": result.chunks_written}))
"""


def test_peak_memory_does_not_hold_shards(tmp_path):
    """A 16384 x 8192 plane (256 MiB, 8 default shards of 4096 x 4096 = 32 MiB each at level 0) is written
    with far less extra memory than one shard row (128 MiB): chunks go to their shard file as they come."""
    def child(src: Path) -> dict:
        proc = subprocess.run([sys.executable, "-c", CHILD, str(src), str(tmp_path / "out")], capture_output=True,
                              text=True, timeout=240, check=True)
        return json.loads(proc.stdout)

    small = tmp_path / "small.tif"
    tifffile.imwrite(small, np.arange(64 * 64, dtype=np.uint16).reshape(64, 64))
    baseline = child(small)
    big = tmp_path / "big.tif"
    plane = tifffile.memmap(big, shape=(16384, 8192), dtype=np.uint16)
    for y in range(0, 16384, 1024):
        plane[y : y + 1024] = np.arange(8192, dtype=np.uint16)[None, :] + np.arange(y, y + 1024, dtype=np.uint16)[:, None]
    plane.flush()
    del plane
    result = child(big)
    assert result["written"] == 32 * 16 + 16 * 8 + 8 * 4 + 4 * 2 + 2 * 1 + 1
    extra_mib = (result["rss_kib"] - baseline["rss_kib"]) / 1024
    assert extra_mib < 256 / 3, f"0.5 ingest of a 256 MiB plane used {extra_mib:.0f} MiB more"
    assert len(list((tmp_path / "out" / "big.ome.zarr" / "0").rglob("*/0/0/0/*/*"))) == 8


def test_progress_bar_counts_every_tile(tmp_path):
    from test_ingest_cli import run_on_tty, write_image

    write_image(tmp_path / "img.tif")
    code, shown = run_on_tty("ingest", str(tmp_path / "img.tif"), str(tmp_path / "out"), "--tile", "64",
                             "--ngff", "0.5", "--shard", "256", columns=100)
    assert code == 0, shown
    final = shown.replace("\r\n", "\n").split("\r")[-1]
    assert re.search(r"img: 100%\|.*\| 164/164 \[", final), shown  # the same tiles as 0.4
