"""Ingest streams: peak memory does not grow with the plane size.

A 16384 x 8192 uint16 plane (256 MiB) stored as ONE uncompressed strip, the layout where a naive
reader loads the whole plane, is ingested in a child process; its peak RSS must stay within a small
allowance over the same child ingesting a tiny image (interpreter, numpy, codecs, thread pools).
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import tifffile

# The peak RSS counter (VmHWM) is reset first: a forked child inherits its parent's high-water mark.
CHILD = """
import json, re, sys
with open("/proc/self/clear_refs", "w") as fh:
    fh.write("5")
from chromatile.ingest import ingest
result = ingest(sys.argv[1], sys.argv[2], tile=512, workers=2)
with open("/proc/self/status") as fh:
    peak = int(re.search(r"VmHWM:\\s+(\\d+) kB", fh.read()).group(1))
print(json.dumps({"rss_kib": peak, "written": result.chunks_written, "shape": result.shape}))
"""

PLANE_MIB = 16384 * 8192 * 2 / 2**20


def child_ingest(src, dest) -> dict:
    proc = subprocess.run([sys.executable, "-c", CHILD, str(src), str(dest)], capture_output=True, text=True,
                          timeout=240, check=True)
    return json.loads(proc.stdout)


def test_peak_memory_independent_of_plane_size(tmp_path):
    small = tmp_path / "small.tif"
    tifffile.imwrite(small, np.arange(64 * 64, dtype=np.uint16).reshape(64, 64))
    baseline = child_ingest(small, tmp_path / "out")

    big = tmp_path / "big.tif"
    plane = tifffile.memmap(big, shape=(16384, 8192), dtype=np.uint16)
    row = np.arange(8192, dtype=np.uint16)
    for y in range(0, 16384, 1024):
        plane[y : y + 1024] = row[None, :] + np.arange(y, y + 1024, dtype=np.uint16)[:, None]
    plane.flush()
    del plane
    with tifffile.TiffFile(big) as tif:
        assert len(tif.pages[0].dataoffsets) == 1  # one strip holds the whole plane

    result = child_ingest(big, tmp_path / "out")
    assert result["shape"] == [1, 1, 1, 16384, 8192]
    assert result["written"] == 32 * 16 + 16 * 8 + 8 * 4 + 4 * 2 + 2 * 1 + 1
    extra_mib = (result["rss_kib"] - baseline["rss_kib"]) / 1024
    assert extra_mib < PLANE_MIB / 3, f"ingest of a {PLANE_MIB:.0f} MiB plane used {extra_mib:.0f} MiB more"
