"""The main path: an OME-TIFF in, a correct OME-Zarr store out."""

from __future__ import annotations

import numpy as np
import tifffile
from ingest_helpers import check_pyramid, zattrs

from chromatile.ingest import ingest


def test_ome_tiff_roundtrip(tmp_path, ramp):
    src = tmp_path / "ramp.ome.tif"
    tifffile.imwrite(src, ramp[0], ome=True, tile=(64, 64), compression="zlib", metadata={
        "axes": "CZYX", "Channel": {"Name": ["DAPI", "GFP"]},
        "PhysicalSizeX": 0.25, "PhysicalSizeY": 0.3, "PhysicalSizeZ": 2.0,
    })
    result = ingest(src, tmp_path / "data", tile=64)
    assert result.image_id == "ramp"
    assert result.store_path == tmp_path / "data" / "ramp.ome.zarr"
    assert check_pyramid(result.store_path, ramp) == 3  # x: 203 -> 102 -> 51 fits 64
    attrs = zattrs(result.store_path)
    assert [c["label"] for c in attrs["omero"]["channels"]] == ["DAPI", "GFP"]
    scale = attrs["multiscales"][0]["datasets"][1]["coordinateTransformations"][0]["scale"]
    assert scale == [1.0, 1.0, 2.0, 0.6, 0.5]
    assert attrs["chromatile"]["channels"][0]["min"] == 0
    assert attrs["chromatile"]["channels"][0]["max"] == 65535
    assert (result.store_path / "thumbnail.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plain_2d_uint8(tmp_path):
    a = (np.arange(300 * 130).reshape(130, 300) % 251).astype(np.uint8)
    src = tmp_path / "plain.tif"
    tifffile.imwrite(src, a)
    result = ingest(src, tmp_path, tile=64, image_id="p")
    check_pyramid(result.store_path, a[None, None, None])
