"""Every reader path, on small files written here with tifffile: level 0 equals the source exactly
and every level equals a NumPy reference downsample of the level above."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from ingest_helpers import check_pyramid, zattrs

from chromatile.ingest import ingest

RNG = np.random.default_rng(7)


def data(shape: tuple[int, ...], dtype=np.uint16) -> np.ndarray:
    """Random values over the whole dtype range."""
    info = np.iinfo(dtype)
    return RNG.integers(info.min, int(info.max) + 1, size=shape, dtype=dtype)


def test_ome_tczyx_tiled(tmp_path):
    a = data((2, 3, 4, 70, 97))
    src = tmp_path / "multi.ome.tif"
    tifffile.imwrite(src, a, ome=True, tile=(32, 32), compression="zlib", metadata={"axes": "TCZYX"})
    result = ingest(src, tmp_path / "out", tile=64)
    assert result.shape == (2, 3, 4, 70, 97)
    assert check_pyramid(result.store_path, a) == 2
    assert zattrs(result.store_path)["chromatile"]["source"] == {"path": "multi.ome.tif", "format": "ome-tiff"}


def test_ome_dimension_order_zct(tmp_path):
    # OME pages in order Z, C, T (axes ZCYX): channels must still land on the c axis.
    a = data((3, 2, 40, 50))
    src = tmp_path / "zc.ome.tif"
    tifffile.imwrite(src, a, ome=True, metadata={"axes": "ZCYX"})
    result = ingest(src, tmp_path, tile=64)
    check_pyramid(result.store_path, a.transpose(1, 0, 2, 3)[None])


def test_pyramidal_ome_tiff_reads_full_resolution(tmp_path):
    a = data((2, 130, 150))
    src = tmp_path / "pyr.ome.tif"
    with tifffile.TiffWriter(src, ome=True) as tw:
        tw.write(a, subifds=2, tile=(64, 64), metadata={"axes": "CYX"}, compression="zlib")
        tw.write(a[:, ::2, ::2], subfiletype=1, tile=(64, 64), compression="zlib")
        tw.write(a[:, ::4, ::4], subfiletype=1, tile=(64, 64), compression="zlib")
    result = ingest(src, tmp_path / "out", tile=64)
    assert check_pyramid(result.store_path, a[None, :, None]) == 3


def test_imagej_hyperstack(tmp_path):
    a = data((2, 3, 2, 45, 61))  # TZCYX, ImageJ order
    src = tmp_path / "hyper.tif"
    tifffile.imwrite(src, a, imagej=True, resolution=(4.0, 4.0),
                     metadata={"axes": "TZCYX", "spacing": 1.5, "unit": "um"})
    result = ingest(src, tmp_path / "out", tile=64)
    check_pyramid(result.store_path, a.transpose(0, 2, 1, 3, 4))
    attrs = zattrs(result.store_path)
    assert attrs["chromatile"]["source"]["format"] == "imagej"
    ms = attrs["multiscales"][0]
    assert [ax.get("unit") for ax in ms["axes"]] == [None, None, "micrometer", "micrometer", "micrometer"]
    assert ms["datasets"][0]["coordinateTransformations"][0]["scale"] == [1.0, 1.0, 1.5, 0.25, 0.25]


def test_plain_3d_multipage_is_z(tmp_path):
    a = data((5, 33, 47), np.uint8)
    src = tmp_path / "stack.tif"
    tifffile.imwrite(src, a, photometric="minisblack")
    result = ingest(src, tmp_path, tile=64)
    check_pyramid(result.store_path, a[None, None])
    assert zattrs(result.store_path)["chromatile"]["source"]["format"] == "tiff"


@pytest.mark.parametrize("options", [
    {},  # uncompressed, one strip per page: read row-exactly
    {"rowsperstrip": 7},  # uncompressed, many strips
    {"compression": "zlib", "rowsperstrip": 5, "predictor": True},  # compressed strips + predictor
    {"compression": "lzw", "rowsperstrip": 300},  # one compressed strip for the whole page
    {"tile": (16, 16), "compression": "zstd"},  # tiles smaller than chunks
    {"tile": (256, 256), "compression": "zlib"},  # tiles larger than chunks
    {"tile": (48, 80)},  # tiles not aligned with chunks, uncompressed
    {"byteorder": ">", "rowsperstrip": 9},  # big-endian
    {"byteorder": ">", "tile": (32, 32), "compression": "zlib"},
], ids=["one-strip", "strips", "zlib-strips", "lzw-one-strip", "small-tiles", "large-tiles", "odd-tiles",
        "big-endian-strips", "big-endian-tiles"])
def test_plain_2d_layouts(tmp_path, options):
    a = data((131, 257))
    src = tmp_path / "plain.tif"
    tifffile.imwrite(src, a, photometric="minisblack", **options)
    result = ingest(src, tmp_path / "out", tile=64, workers=2)
    assert check_pyramid(result.store_path, a[None, None, None]) == 4


def test_rgb_contiguous_becomes_three_channels(tmp_path):
    a = data((90, 70, 3), np.uint8)
    src = tmp_path / "rgb.tif"
    tifffile.imwrite(src, a, photometric="rgb", compression="zlib")
    result = ingest(src, tmp_path, tile=64)
    check_pyramid(result.store_path, a.transpose(2, 0, 1)[None, :, None])
    channels = zattrs(result.store_path)["omero"]["channels"]
    assert [(c["label"], c["color"]) for c in channels] == [("Red", "FF0000"), ("Green", "00FF00"), ("Blue", "0000FF")]


def test_rgba_separate_planes_become_four_channels(tmp_path):
    a = data((4, 66, 71), np.uint8)
    src = tmp_path / "rgba.tif"
    tifffile.imwrite(src, a, photometric="rgb", planarconfig="separate", extrasamples=["unassalpha"],
                     rowsperstrip=16)
    result = ingest(src, tmp_path, tile=64)
    check_pyramid(result.store_path, a[None, :, None])
    assert len(zattrs(result.store_path)["omero"]["channels"]) == 4


def test_folder_of_slices_in_natural_order(tmp_path):
    folder = tmp_path / "slices"
    folder.mkdir()
    a = data((11, 40, 52))
    for z in range(11):
        tifffile.imwrite(folder / f"slice_{z}.tif", a[z])  # slice_10 sorts after slice_9
    (folder / "notes.txt").write_text("not an image")
    result = ingest(folder, tmp_path / "out", tile=64)
    assert result.image_id == "slices"
    check_pyramid(result.store_path, a[None, None])
    assert zattrs(result.store_path)["chromatile"]["source"] == {"path": "slices", "format": "tiff-folder"}


def test_folder_of_rgb_slices(tmp_path):
    folder = tmp_path / "rgbslices"
    folder.mkdir()
    a = data((3, 20, 30, 3), np.uint8)
    for z in range(3):
        tifffile.imwrite(folder / f"s{z:03d}.tiff", a[z], photometric="rgb")
    result = ingest(folder, tmp_path / "out", tile=64)
    check_pyramid(result.store_path, a.transpose(3, 0, 1, 2)[None])


def test_int16_converts_only_with_rescale(tmp_path):
    a = np.array([[-100, 0, 100, 300]], np.int16).repeat(3, axis=0)
    src = tmp_path / "signed.tif"
    tifffile.imwrite(src, a)
    result = ingest(src, tmp_path, tile=64, rescale=(-100.0, 300.0))
    expected = np.array([[0, 16384, 32768, 65535]], np.uint16).repeat(3, axis=0)  # (v+100)/400*65535, half up
    check_pyramid(result.store_path, expected[None, None, None])
    assert zattrs(result.store_path)["chromatile"]["dtype"] == "uint16"


def test_float32_rescale_clips_and_zeroes_nan(tmp_path):
    a = np.array([[np.nan, -5.0, 0.0, 0.5, 1.0, 7.0]], np.float32)
    src = tmp_path / "float.tif"
    tifffile.imwrite(src, a)
    result = ingest(src, tmp_path, tile=64, rescale=(0.0, 1.0))
    expected = np.array([[0, 0, 0, 32768, 65535, 65535]], np.uint16)
    check_pyramid(result.store_path, expected[None, None, None])


def test_sizes_not_multiple_of_tile_and_one_pixel(tmp_path):
    for shape in [(1, 1), (1, 300), (129, 1), (65, 65)]:
        a = data(shape)
        src = tmp_path / f"s{shape[0]}x{shape[1]}.tif"
        tifffile.imwrite(src, a)
        result = ingest(src, tmp_path / "out", tile=64)
        check_pyramid(result.store_path, a[None, None, None])


@pytest.mark.parametrize("options", [{"tile": (64, 64)}, {"rowsperstrip": 16}], ids=["tiles", "strips"])
def test_jpeg_rgb_equals_what_tifffile_decodes(tmp_path, options):
    # lossy: level 0 must equal the decoded source, whatever JPEG did to it (JPEG tables path)
    yy, xx = np.mgrid[0:100, 0:140]
    a = np.stack([(xx * 1.8) % 256, (yy * 2.5) % 256, (xx + yy) % 256], axis=-1).astype(np.uint8)
    src = tmp_path / "jpeg.tif"
    tifffile.imwrite(src, a, photometric="rgb", compression="jpeg", **options)
    with tifffile.TiffFile(src) as tif:
        assert tif.pages[0].photometric == tifffile.PHOTOMETRIC.YCBCR  # how JPEG RGB is stored
    decoded = tifffile.imread(src)
    result = ingest(src, tmp_path / "out", tile=64)
    check_pyramid(result.store_path, decoded.transpose(2, 0, 1)[None, :, None])
    # the same channel names and colours as an uncompressed RGB TIFF: red is drawn red
    channels = zattrs(result.store_path)["omero"]["channels"]
    assert [(c["label"], c["color"]) for c in channels] == [("Red", "FF0000"), ("Green", "00FF00"), ("Blue", "0000FF")]


@pytest.mark.parametrize("top", [16383, 16384, 4095], ids=["14-bit-max", "above-14-bit", "12-bit"])
def test_levels_exact_around_the_narrow_sum_limit(tmp_path, top):
    # below 16384 the 2x2 sums are done in uint16: the largest values must still average exactly
    a = RNG.integers(top - 3, top + 1, size=(2, 131, 259), dtype=np.uint16)
    a[0, :2, :2] = top
    src = tmp_path / "top.tif"
    tifffile.imwrite(src, a, photometric="minisblack", metadata={"axes": "CYX"}, tile=(32, 32))
    result = ingest(src, tmp_path / "out", tile=64)
    assert check_pyramid(result.store_path, a[None, :, None]) == 4
