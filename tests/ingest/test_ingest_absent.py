"""The `chromatile.absent` record of a 0.4 store lists exactly the chunks ingest left out."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import tifffile
from ingest_helpers import zattrs

from chromatile import storemeta
from chromatile.ingest import ingest


def chunks_on_disk(store, level: int, grid: list[int]) -> set[int]:
    """C-order numbers of the chunk files present under a level (keys t/c/z/y/x)."""
    present = set()
    for i, idx in enumerate(itertools.product(*(range(n) for n in grid))):
        if (store / str(level)).joinpath(*map(str, idx)).is_file():
            present.add(i)
    return present


def check_record(store) -> list[set[int]]:
    """Every level's record equals the files on disk; returns the absent chunk numbers per level."""
    image = storemeta.read_image(store)
    absent_per_level = []
    for n, level in enumerate(image.levels):
        grid = storemeta.chunk_grid(level)
        ranges = storemeta.read_absent(image.extras, n, grid)
        assert ranges is not None, f"level {n} has no usable record"
        assert image.extras["absent"][n]["complete"] is True
        absent = {i for a, b in ranges for i in range(a, b)}
        present = chunks_on_disk(store, n, grid)
        assert absent.isdisjoint(present)  # no present chunk listed
        assert absent | present == set(range(math.prod(grid)))  # every absent chunk listed
        absent_per_level.append(absent)
    return absent_per_level


def scattered(seed: int) -> np.ndarray:
    """(c, z, y, x) with zero tiles here and there (tile 64), and channel 1 all zero at z 0."""
    rng = np.random.default_rng(seed)
    a = rng.integers(1, 4000, size=(2, 3, 300, 405), dtype=np.uint16)
    for c, z, ty, tx in zip(rng.integers(0, 2, 12), rng.integers(0, 3, 12), rng.integers(0, 5, 12),
                            rng.integers(0, 7, 12), strict=True):
        a[c, z, ty * 64:(ty + 1) * 64, tx * 64:(tx + 1) * 64] = 0
    a[1, 0] = 0
    return a


def test_record_matches_the_files_on_disk_through_overwrite(tmp_path):
    src = tmp_path / "img.ome.tif"
    tifffile.imwrite(src, scattered(1), ome=True, metadata={"axes": "CZYX"})
    first = ingest(src, tmp_path / "data", tile=64)
    before = check_record(first.store_path)
    assert len(before[0]) >= 35 + 1  # the whole zero plane at least, and some scattered tiles
    assert sum(map(len, before)) == first.chunks_total - first.chunks_written

    tifffile.imwrite(src, scattered(2), ome=True, metadata={"axes": "CZYX"})
    second = ingest(src, tmp_path / "data", tile=64, overwrite=True)
    after = check_record(second.store_path)
    assert after != before  # the record was rewritten for the new chunks, not kept
    assert sum(map(len, after)) == second.chunks_total - second.chunks_written


def test_no_absent_chunk_is_one_run(tmp_path):
    src = tmp_path / "full.tif"
    tifffile.imwrite(src, np.full((70, 90), 7, np.uint8))
    result = ingest(src, tmp_path, tile=64, image_id="full")
    record = zattrs(result.store_path)["chromatile"]["absent"]
    assert record[0] == {"grid": [1, 1, 1, 2, 2], "complete": True, "runs": [4]}
    check_record(result.store_path)


def test_0_5_stores_have_no_record(tmp_path):
    src = tmp_path / "img.ome.tif"
    tifffile.imwrite(src, scattered(1), ome=True, metadata={"axes": "CZYX"})
    result = ingest(src, tmp_path, tile=64, ngff="0.5")
    assert "absent" not in storemeta.read_image(result.store_path).extras


def runs_of(flags: np.ndarray) -> list[tuple[int, int]]:
    """Reference: [start, end) of every run of True."""
    out, start = [], None
    for i, f in enumerate([*flags.tolist(), False]):
        if f and start is None:
            start = i
        elif not f and start is not None:
            out.append((start, i))
            start = None
    return out


def listed(entry: dict) -> list[tuple[int, int]]:
    ranges = storemeta.read_absent({"absent": [entry]}, 0, entry["grid"])
    assert ranges is not None
    return ranges


def test_runs_start_with_a_present_run():
    bits = np.packbits(np.array([1, 1, 0, 1, 0, 0, 0, 1], bool), bitorder="little").tobytes()
    assert storemeta.absent_level([1, 1, 1, 2, 4], bits) == {
        "grid": [1, 1, 1, 2, 4], "complete": True, "runs": [0, 2, 1, 1, 3, 1, 0]}


@pytest.mark.parametrize("seed", range(4))
def test_runs_across_block_boundaries_match_a_reference(monkeypatch, seed):
    monkeypatch.setattr(storemeta, "_ABSENT_BLOCK", 3)  # 24 chunks a block: many runs cross blocks
    rng = np.random.default_rng(seed)
    flags = np.repeat(rng.random(60) < 0.5, rng.integers(1, 30, 60))[:1000]
    grid = [1, 1, 1, 1, flags.size]
    entry = storemeta.absent_level(grid, np.packbits(flags, bitorder="little").tobytes())
    assert entry["complete"] and listed(entry) == runs_of(flags)


def test_scattered_runs_are_capped_to_the_longest():
    rng = np.random.default_rng(5)
    flags = rng.random(200_000) < 0.3
    flags[1000:1500] = True  # one long run
    grid = [1, 1, 1, 400, 500]
    entry = storemeta.absent_level(grid, np.packbits(flags, bitorder="little").tobytes(), cap=100)
    assert entry["complete"] is False and len(entry["runs"]) == 2 * 100 + 1
    everything = runs_of(flags)
    kept = listed(entry)
    assert set(kept) <= set(everything), "only whole absent runs are listed"
    assert next(r for r in everything if r[0] <= 1000 < r[1]) in kept, "the long run is listed"
    shortest_kept = min(e - s for s, e in kept)
    assert all(e - s <= shortest_kept for s, e in set(everything) - set(kept)), "the longest are kept"


@pytest.mark.parametrize("entry", [
    None, "x", {"grid": [1, 1, 1, 2, 2], "runs": [3]}, {"grid": [1, 1, 1, 2, 3], "runs": [4]},
    {"grid": [1, 1, 1, 2, 2], "runs": [1, -1, 4]}, {"grid": [1, 1, 1, 2, 2], "runs": [1.5, 2.5]},
    {"grid": [1, 1, 1, 2, 2], "runs": [True, 3]},
])
def test_a_malformed_or_foreign_record_is_not_used(entry):
    assert storemeta.read_absent({"absent": [entry]}, 0, [1, 1, 1, 2, 2]) is None
    assert storemeta.read_absent({"absent": [{"grid": [1, 1, 1, 2, 2], "runs": [4]}]}, 1, [1, 1, 1, 2, 2]) is None
