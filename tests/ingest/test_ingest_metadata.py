"""`.zattrs`, histograms, windows and the thumbnail: exact values on data with known statistics."""

from __future__ import annotations

import imagecodecs
import numpy as np
import pytest
import tifffile
from ingest_helpers import open_store, zattrs
from ome_zarr_models.v04.image import Image

from chromatile.ingest import ingest
from chromatile.ingest.stats import ChannelStats, row_step
from chromatile.sample import write_sample


def ome_color(rgb: int) -> int:
    """RRGGBB -> OME signed RGBA int."""
    value = (rgb << 8) | 0xFF
    return value - (1 << 32) if value >= 1 << 31 else value


def test_metadata_round_trip(tmp_path):
    a = np.zeros((3, 2, 40, 60), np.uint16)
    a[0] = 5
    src = tmp_path / "meta.ome.tif"
    tifffile.imwrite(src, a, ome=True, metadata={
        "axes": "CZYX",
        "Channel": {"Name": ["Hoechst", "Actin", "Mito"], "Color": [ome_color(0x1020F0), ome_color(0xFF8000), -1]},
        "PhysicalSizeX": 120.0, "PhysicalSizeXUnit": "nm", "PhysicalSizeY": 130.0, "PhysicalSizeYUnit": "nm",
        "PhysicalSizeZ": 0.5, "PhysicalSizeZUnit": "µm",
    })
    result = ingest(src, tmp_path / "out", image_id="m1", tile=64)
    attrs = zattrs(result.store_path)
    ms = attrs["multiscales"][0]
    assert ms["version"] == "0.4" and ms["name"] == "m1" and ms["type"] == "mean"
    assert ms["axes"] == [
        {"name": "t", "type": "time"}, {"name": "c", "type": "channel"},
        {"name": "z", "type": "space", "unit": "micrometer"},
        {"name": "y", "type": "space", "unit": "nanometer"},
        {"name": "x", "type": "space", "unit": "nanometer"},
    ]
    assert [d["coordinateTransformations"][0]["scale"] for d in ms["datasets"]] == [[1.0, 1.0, 0.5, 130.0, 120.0]]
    omero = attrs["omero"]
    assert omero["rdefs"] == {"model": "color", "defaultZ": 1, "defaultT": 0}
    assert [(c["label"], c["color"]) for c in omero["channels"]] == [
        ("Hoechst", "1020F0"), ("Actin", "FF8000"), ("Mito", "FFFFFF")]
    # constant 5: the window ends at 5 so the viewer draws it at full colour; all-zero channels stay (0, 1)
    assert omero["channels"][0]["window"] == {"start": 4, "end": 5, "min": 0, "max": 65535}
    assert omero["channels"][1]["window"] == {"start": 0, "end": 1, "min": 0, "max": 65535}
    ct = attrs["chromatile"]
    assert ct["dtype"] == "uint16" and ct["tile"] == 64 and ct["thumbnail"] == "thumbnail.png"
    assert ct["channels"][0] == {"min": 5, "max": 5, "histogram": {"range": [5, 6], "counts": [2 * 2400]}}
    assert ct["channels"][1] == {"min": 0, "max": 0, "histogram": {"range": [0, 1], "counts": [2 * 2400]}}
    assert ct["rendering"] == [{"gamma": 1.0, "colormap": "color"}] * 3


def test_default_colours_and_labels_without_metadata(tmp_path):
    a = np.ones((4, 20, 20), np.uint8)
    src = tmp_path / "four.tif"
    tifffile.imwrite(src, a, photometric="minisblack", metadata={"axes": "CYX"})
    attrs = zattrs(ingest(src, tmp_path, tile=64).store_path)
    assert [(c["label"], c["color"]) for c in attrs["omero"]["channels"]] == [
        ("Channel 0", "0000FF"), ("Channel 1", "00FF00"), ("Channel 2", "FF0000"), ("Channel 3", "FF00FF")]
    assert all(ax.get("unit") is None for ax in attrs["multiscales"][0]["axes"])
    assert attrs["omero"]["channels"][0]["window"]["max"] == 255

    single = tmp_path / "one.tif"
    tifffile.imwrite(single, a[0])
    attrs = zattrs(ingest(single, tmp_path, tile=64).store_path)
    assert attrs["omero"]["channels"][0]["color"] == "FFFFFF"


def test_histogram_and_percentile_window(tmp_path):
    # values 0..1999 once each, then 1000 pixels at 60000: 3000 pixels in all
    values = np.concatenate([np.arange(2000), np.full(1000, 60000)]).astype(np.uint16)
    src = tmp_path / "hist.tif"
    tifffile.imwrite(src, values.reshape(30, 100))
    attrs = zattrs(ingest(src, tmp_path, tile=64).store_path)
    channel = attrs["chromatile"]["channels"][0]
    assert (channel["min"], channel["max"]) == (0, 60000)
    hist = channel["histogram"]
    assert hist["range"] == [0, 60001] and len(hist["counts"]) == 1024
    width = 60001 / 1024
    expected = np.bincount((np.floor(values / width)).astype(int), minlength=1024)
    assert hist["counts"] == expected.tolist()
    # 0.1 % of 3000 = 3 pixels -> value 2; 99.9 % = 2997 pixels -> reached at 60000
    assert attrs["omero"]["channels"][0]["window"] == {"start": 2, "end": 60000, "min": 0, "max": 65535}


def test_small_range_histogram_has_one_bin_per_value(tmp_path):
    a = np.array([[10, 11, 11, 13]], np.uint8)
    src = tmp_path / "small.tif"
    tifffile.imwrite(src, a)
    channel = zattrs(ingest(src, tmp_path, tile=64).store_path)["chromatile"]["channels"][0]
    assert channel["histogram"] == {"range": [10, 14], "counts": [1, 2, 0, 1]}


def test_thumbnail_is_default_rendering(tmp_path):
    # channel 0 (blue) saturated in the left half, channel 1 (green) saturated at the bottom
    a = np.zeros((2, 300, 600), np.uint16)
    a[0, :, :300] = 1000
    a[1, 150:, :] = 500
    a[0, 0, 599] = 1  # one dark pixel so the window of channel 0 starts at 0
    a[1, 0, 0] = 0
    src = tmp_path / "thumb.ome.tif"
    tifffile.imwrite(src, a, ome=True, metadata={"axes": "CYX", "Channel": {"Name": ["a", "b"]}})
    result = ingest(src, tmp_path, tile=64)
    png = imagecodecs.png_decode((result.store_path / "thumbnail.png").read_bytes())
    assert png.shape == (128, 256, 3) and png.dtype == np.uint8
    assert png[10, 10].tolist() == [0, 0, 255]
    assert png[10, 250].tolist() == [0, 0, 0]
    assert png[120, 10].tolist() == [0, 255, 255]
    assert png[120, 250].tolist() == [0, 255, 0]


@pytest.mark.parametrize("value", [1, 700, 65535])
def test_constant_channel_is_not_black_in_the_thumbnail(tmp_path, value):
    # channel 0 (blue) constant; channel 1 (green) nearly constant: one pixel brighter
    a = np.full((2, 120, 200), value, np.uint16)
    a[1, 5, 5] = 0 if value == 65535 else value + 1
    src = tmp_path / "flat.ome.tif"
    tifffile.imwrite(src, a, ome=True, metadata={"axes": "CYX", "Channel": {"Name": ["flat", "almost"]}})
    result = ingest(src, tmp_path, tile=64)
    windows = [(c["window"]["start"], c["window"]["end"]) for c in zattrs(result.store_path)["omero"]["channels"]]
    assert windows[0] == (value - 1, value)
    assert windows[1] == ((0, 65535) if value == 65535 else (value, value + 1))  # its full range
    png = imagecodecs.png_decode((result.store_path / "thumbnail.png").read_bytes())
    assert png.shape == (154, 256, 3)
    assert (png[..., 2] == 255).all()  # the constant channel at full colour everywhere
    # the nearly constant one is drawn at its place in its range (black only where it is at its minimum)
    green = 255 if value == 65535 else 0
    assert png[100, 100].tolist() == [0, green, 255]


def test_zarr_python_reads_it_and_ome_ngff_validates(tmp_path):
    src = write_sample(tmp_path / "s.ome.tif", width=300, height=200, z=3, channels=3)
    result = ingest(src, tmp_path / "out", tile=64)
    group = open_store(result.store_path)
    image = Image.from_zarr(group)
    assert [ax.name for ax in image.attributes.multiscales[0].axes] == ["t", "c", "z", "y", "x"]
    assert [d.path for d in image.attributes.multiscales[0].datasets] == ["0", "1", "2", "3"]
    arr = group["3"]
    assert arr.shape == (1, 3, 3, 25, 38) and arr.chunks == (1, 1, 1, 64, 64) and str(arr.dtype) == "uint16"
    with tifffile.TiffFile(src) as tif:
        np.testing.assert_array_equal(group["0"][0], tif.asarray())
    attrs = zattrs(result.store_path)
    assert [c["label"] for c in attrs["omero"]["channels"]] == ["DAPI", "Membrane", "Tubulin"]
    assert [c["color"] for c in attrs["omero"]["channels"]] == ["0000FF", "00FF00", "FF0000"]
    assert attrs["multiscales"][0]["datasets"][0]["coordinateTransformations"][0]["scale"] == [1.0, 1.0, 1.0, 0.325, 0.325]
    assert attrs["chromatile"]["source"]["format"] == "ome-tiff"


def test_all_zero_chunks_are_not_written(tmp_path):
    a = np.zeros((130, 130), np.uint16)
    a[100, 100] = 7
    src = tmp_path / "sparse.tif"
    tifffile.imwrite(src, a)
    result = ingest(src, tmp_path, tile=64)
    chunks = sorted(str(p.relative_to(result.store_path)) for p in result.store_path.rglob("*")
                    if p.is_file() and not p.name.startswith(".") and p.suffix != ".png")
    assert chunks == ["0/0/0/0/1/1", "1/0/0/0/0/0", "2/0/0/0/0/0"]
    assert result.chunks_written == 3 and result.chunks_total == 9 + 4 + 1  # 130 -> 65 -> 33 px
    np.testing.assert_array_equal(open_store(result.store_path)["0"][0, 0, 0], a)


def lut(r: int, g: int, b: int) -> np.ndarray:
    """An ImageJ LUT ramping from black to (r, g, b)."""
    ramp = np.linspace(0, 1, 256)
    return np.round(np.outer([r, g, b], ramp)).astype(np.uint8)


def test_imagej_luts_labels_and_units(tmp_path):
    a = np.arange(3 * 2 * 20 * 30, dtype=np.uint16).reshape(2, 3, 20, 30)  # ZCYX
    src = tmp_path / "ij.tif"
    tifffile.imwrite(src, a, imagej=True, resolution=(1 / 0.2, 1 / 0.2), metadata={
        "axes": "ZCYX", "unit": "\\u00B5m", "spacing": 0.75,
        "LUTs": [lut(255, 0, 255), lut(0, 255, 255), lut(255, 128, 0)], "Labels": ["Nuc", "Mem", "Mito"],
    })
    attrs = zattrs(ingest(src, tmp_path / "out", tile=64).store_path)
    assert [(c["label"], c["color"]) for c in attrs["omero"]["channels"]] == [
        ("Nuc", "FF00FF"), ("Mem", "00FFFF"), ("Mito", "FF8000")]
    ms = attrs["multiscales"][0]
    assert [ax.get("unit") for ax in ms["axes"][2:]] == ["micrometer"] * 3
    assert ms["datasets"][0]["coordinateTransformations"][0]["scale"] == pytest.approx([1, 1, 0.75, 0.2, 0.2])


@pytest.mark.parametrize("unit,resolution,expected", [
    ("CENTIMETER", (10000 / 0.5, 10000 / 0.25), [0.25, 0.5]),  # pixels per cm -> micrometre per pixel
    ("INCH", (25400 / 2.0, 25400 / 2.0), [2.0, 2.0]),
])
def test_plain_tiff_resolution_tags(tmp_path, unit, resolution, expected):
    src = tmp_path / "res.tif"
    tifffile.imwrite(src, np.ones((20, 30), np.uint16), resolution=resolution, resolutionunit=unit)
    ms = zattrs(ingest(src, tmp_path / "out", tile=64).store_path)["multiscales"][0]
    assert [ax.get("unit") for ax in ms["axes"][3:]] == ["micrometer", "micrometer"]
    assert ms["datasets"][0]["coordinateTransformations"][0]["scale"][3:] == pytest.approx(expected)


def test_resolution_without_unit_gives_no_physical_size(tmp_path):
    src = tmp_path / "nounit.tif"
    tifffile.imwrite(src, np.ones((20, 30), np.uint16), resolution=(3.0, 3.0), resolutionunit="NONE")
    ms = zattrs(ingest(src, tmp_path / "out", tile=64).store_path)["multiscales"][0]
    assert all("unit" not in ax for ax in ms["axes"])
    assert ms["datasets"][0]["coordinateTransformations"][0]["scale"] == [1.0, 1.0, 1.0, 1.0, 1.0]


def test_ome_colours_names_and_units_survive_pyramidal_and_multi_t(tmp_path):
    a = np.ones((2, 2, 70, 90), np.uint16)  # TCYX
    src = tmp_path / "pyr.ome.tif"
    with tifffile.TiffWriter(src, ome=True) as tw:
        tw.write(a, subifds=1, tile=(32, 32), metadata={
            "axes": "TCYX", "Channel": {"Name": ["ch-a", "ch-b"], "Color": [ome_color(0x00FF00), ome_color(0xFF00FF)]},
            "PhysicalSizeX": 0.5, "PhysicalSizeXUnit": "mm", "PhysicalSizeY": 0.5, "PhysicalSizeYUnit": "mm",
        })
        tw.write(a[..., ::2, ::2], subfiletype=1, tile=(32, 32))
    attrs = zattrs(ingest(src, tmp_path / "out", tile=64).store_path)
    assert [(c["label"], c["color"]) for c in attrs["omero"]["channels"]] == [("ch-a", "00FF00"), ("ch-b", "FF00FF")]
    ms = attrs["multiscales"][0]
    assert [ax.get("unit") for ax in ms["axes"]] == [None, None, None, "millimeter", "millimeter"]
    assert [d["coordinateTransformations"][0]["scale"] for d in ms["datasets"]] == [
        [1.0, 1.0, 1.0, 0.5, 0.5], [1.0, 1.0, 1.0, 1.0, 1.0]]


def test_large_planes_count_evenly_spaced_rows_but_min_max_stay_exact():
    # up to 4096 x 4096 every pixel is counted; above, every 2nd, 4th, ... row (at least 2**24 pixels)
    assert row_step(4096, 4096, 512) == 1
    assert row_step(4096, 4097, 512) == 1
    assert row_step(8192, 4096, 512) == 2
    assert row_step(16384, 16384, 512) == 16
    assert row_step(1 << 20, 1 << 20, 512) == 512  # never more than a tile: every band gives rows
    assert row_step(1 << 20, 1 << 20, 64) == 64

    rng = np.random.default_rng(5)
    stats = ChannelStats(1, np.dtype(np.uint16), step=4)
    band = rng.integers(1000, 2000, size=(64, 300), dtype=np.uint16)
    band[1, 7] = 3  # extremes on rows that are not counted (1 and 6 are not multiples of 4)
    band[6, 9] = 60000
    for _ in range(2):
        stats.add(0, band)
    summary = stats.summary(0)
    assert (summary.min, summary.max) == (3, 60000)
    counted = band[::4]
    assert sum(summary.counts) == 2 * counted.size
    assert summary.histogram()["range"] == [3, 60001]
    cumulative = np.cumsum(np.bincount(counted.ravel(), minlength=65536))
    total = cumulative[-1]
    assert summary.window == (int(np.searchsorted(cumulative, total * 0.001)),
                              int(np.searchsorted(cumulative, total * 0.999)))
