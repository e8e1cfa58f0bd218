"""The synthetic sample: deterministic per tile, microscopy-like statistics, OME metadata, CLI."""

from __future__ import annotations

import numpy as np
import tifffile
from ingest_helpers import run_cli

from chromatile import cli
from chromatile.sample import OFFSET, sample_tile, write_sample


def test_deterministic_and_seeded():
    big = sample_tile(0, 3, 1000, 2000, 96, 96, size_z=8, seed=5)
    again = sample_tile(0, 3, 1000, 2000, 96, 96, size_z=8, seed=5)
    np.testing.assert_array_equal(big, again)
    other_seed = sample_tile(0, 3, 1000, 2000, 96, 96, size_z=8, seed=6)
    assert not np.array_equal(big, other_seed)


def test_file_tiles_match_independent_generation(tmp_path):
    path = write_sample(tmp_path / "s.ome.tif", width=700, height=300, z=3, channels=2, seed=3, tile=256)
    data = tifffile.imread(path)
    assert data.shape == (2, 3, 300, 700) and data.dtype == np.uint16
    np.testing.assert_array_equal(data[1, 2, 256:300, 512:700],
                                  sample_tile(1, 2, 256, 512, 44, 188, size_z=3, seed=3))


def test_looks_like_fluorescence():
    nuclei = sample_tile(0, 4, 0, 0, 512, 512, size_z=9).astype(float)
    background = np.median(nuclei)
    assert abs(background - OFFSET) < 15  # most pixels are dark background at the camera offset
    bright = nuclei > OFFSET + 500
    assert 0.05 < bright.mean() < 0.6  # blobs cover part of the field
    filaments = sample_tile(2, 4, 0, 0, 512, 512, size_z=9).astype(float)
    assert (filaments > OFFSET + 200).mean() < 0.25  # thin lines: sparse

    def sharpness(a):
        return np.abs(np.diff(a, axis=1)).mean()

    in_focus = sample_tile(1, 4, 0, 0, 256, 256, size_z=9).astype(float)
    defocused = sample_tile(1, 0, 0, 0, 256, 256, size_z=9).astype(float)
    assert sharpness(in_focus - in_focus.mean()) > 1.5 * sharpness(defocused - defocused.mean())


def test_ome_metadata(tmp_path):
    path = write_sample(tmp_path / "m.ome.tif", width=64, height=64, z=2, channels=4)
    with tifffile.TiffFile(path) as tif:
        assert tif.is_ome and tif.series[0].axes == "CZYX" and tif.pages[0].is_tiled
        pixels = tifffile.xml2dict(tif.ome_metadata)["OME"]["Image"]["Pixels"]
    assert [c["Name"] for c in pixels["Channel"]] == ["DAPI", "Membrane", "Tubulin", "DAPI 2"]
    assert [(int(c["Color"]) & 0xFFFFFFFF) >> 8 for c in pixels["Channel"]] == [0x0000FF, 0x00FF00, 0xFF0000, 0xFF00FF]
    assert (pixels["PhysicalSizeX"], pixels["PhysicalSizeZ"]) == (0.325, 1.0)


def test_cli(tmp_path, capsys):
    assert cli.main(["sample", str(tmp_path), "--width", "100", "--height", "80", "--z", "2", "--channels", "1"]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "sample.ome.tif")
    assert tifffile.imread(tmp_path / "sample.ome.tif").shape == (2, 80, 100)
    proc = run_cli("sample", tmp_path / "missing" / "x.tif")
    assert (proc.returncode, proc.stderr) == (2, f"chromatile: error: {tmp_path / 'missing'}: no such directory\n")
    proc = run_cli("sample", tmp_path / "y.tif", "--z", "0")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
