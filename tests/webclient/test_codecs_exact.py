"""The viewer's own chunk decoders (webclient/src/blosc.js, lz4.js, zstd.js) against chunks written by
Python's numcodecs, as zarr and our ingest write them: every chunk decodes to exactly its bytes.

The chunks are made here, at test time, and decoded by webclient/test/decode-fixtures.js under node.
"""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
from pathlib import Path
from typing import Any

import numcodecs
import numpy as np
from numcodecs.abc import Codec

from chromatile.ingest.compression import make_codec

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "webclient" / "test" / "decode-fixtures.js"

SHUFFLES = {"noshuffle": numcodecs.Blosc.NOSHUFFLE, "shuffle": numcodecs.Blosc.SHUFFLE,
            "bitshuffle": numcodecs.Blosc.BITSHUFFLE}
# blosc.js carries these inner codecs itself; blosclz (and snappy, which Python's numcodecs does not
# build) go to numcodecs/blosc.
OWN = {"zstd", "lz4", "lz4hc", "zlib"}


def image_like(n: int, dtype: np.dtype[Any], seed: int) -> np.ndarray:
    """Smooth values with noise in the low bits: compressible, but not trivially."""
    rng = np.random.default_rng(seed)
    top = np.iinfo(dtype).max if dtype.kind == "u" else 255
    ramp = (np.sin(np.arange(n) / 37.0) + 1) * (top // 4)
    return (ramp + rng.integers(0, 16, n)).astype(dtype)


class Fixtures:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.cases: list[dict[str, Any]] = []

    def add(self, name: str, raw: bytes, chunk: bytes, spec: dict[str, Any], own: bool = True) -> None:
        i = len(self.cases)
        (self.root / f"{i}.raw").write_bytes(raw)
        (self.root / f"{i}.chunk").write_bytes(chunk)
        self.cases.append({"name": name, "spec": spec, "chunk": f"{i}.chunk", "raw": f"{i}.raw", "own": own})

    def codec(self, name: str, codec: Codec, data: np.ndarray, spec: dict[str, Any] | None = None,
              own: bool = True) -> None:
        chunk = bytes(codec.encode(data))
        if data.size:  # numcodecs' blosc takes its own empty chunk for an error
            assert bytes(codec.decode(chunk)) == data.tobytes(), f"{name}: numcodecs' own round trip"
        if isinstance(codec, numcodecs.Blosc) and blosc_header(chunk)[0] & 0x02:
            own = True  # stored uncompressed (memcpyed): no inner codec involved
        self.add(name, data.tobytes(), chunk, spec or codec.get_config(), own)


def blosc_header(chunk: bytes) -> tuple[int, int, int, int, int, int]:
    """(flags, typesize, nbytes, blocksize, cbytes, versionlz) of a Blosc 1 chunk."""
    _, versionlz, flags, typesize, nbytes, blocksize, cbytes = struct.unpack("<BBBBiii", chunk[:16])
    return flags, typesize, nbytes, blocksize, cbytes, versionlz


def zstd_frame_without_size(data: bytes) -> bytes:
    """A zstd frame as a streaming writer makes it: no content size in its header (RFC 8878), its
    data in raw blocks of at most 128 KiB."""
    out = bytearray(struct.pack("<I", 0xFD2FB528))
    out += bytes([0x00, 0x58])  # descriptor: no size, no checksum, not single-segment; window 128 MiB
    blocks = [data[i:i + (1 << 17)] for i in range(0, len(data), 1 << 17)] or [b""]
    for k, block in enumerate(blocks):
        last = 1 if k == len(blocks) - 1 else 0
        out += (last | (len(block) << 3)).to_bytes(3, "little")  # block type 0 = raw
        out += block
    return bytes(out)


def write_fixtures(root: Path) -> Fixtures:
    fx = Fixtures(root)
    for cname in ("zstd", "lz4", "lz4hc", "zlib", "blosclz"):
        for sname, shuffle in SHUFFLES.items():
            for dtype in ("u1", "u2", "u4", "u8"):
                # 3001 items: blocks of 2048 bytes leave a last partial block (of a number of items
                # that is not a multiple of 8, which bitshuffle stores unshuffled); automatic blocks
                # too. Small forced blocks split into one stream per byte for lz4, lz4hc, zlib.
                data = image_like(3001, np.dtype(dtype), seed=len(fx.cases))
                for blocksize in (0, 2048):
                    codec = numcodecs.Blosc(cname=cname, clevel=5, shuffle=shuffle, blocksize=blocksize)
                    fx.codec(f"blosc {cname} {sname} {dtype} blocksize {blocksize}", codec, data,
                             own=cname in OWN)
    # A chunk of one block of exactly 128 items, the least blosc splits into streams; of 127, not split.
    for cname in ("lz4", "zlib"):
        for n in (128, 127):
            codec = numcodecs.Blosc(cname=cname, clevel=5, shuffle=numcodecs.Blosc.SHUFFLE)
            fx.codec(f"blosc {cname} shuffle u8, one block of {n} items", codec, image_like(n, np.dtype("u8"), n))
    # uint16 blocks that start 2 bytes off a 4-byte boundary (the unshuffle's byte path).
    fx.codec("blosc zstd shuffle u2 blocksize 2050", numcodecs.Blosc(cname="zstd", shuffle=1, blocksize=2050),
             image_like(3001, np.dtype("u2"), 11))
    zstd1 = numcodecs.Blosc(cname="zstd", clevel=1, shuffle=numcodecs.Blosc.SHUFFLE)
    lz4 = numcodecs.Blosc(cname="lz4", clevel=5, shuffle=numcodecs.Blosc.SHUFFLE, blocksize=4096)
    # Items of 3, 16 and 32 bytes (32: more than blosc splits, one stream per block).
    for size in (3, 16, 32):
        data = np.frombuffer(image_like(size * 2000, np.dtype("u1"), seed=size).tobytes(), dtype=f"V{size}")
        fx.codec(f"blosc zstd shuffle V{size}", zstd1, data)
        fx.codec(f"blosc lz4 shuffle V{size} blocksize 4096", lz4, data)
        fx.codec(f"blosc lz4 bitshuffle V{size}", numcodecs.Blosc(cname="lz4", shuffle=2, blocksize=4096), data)
    rng = np.random.default_rng(7)
    noise = rng.integers(0, 1 << 16, 70_000, dtype=np.uint16)
    fx.codec("blosc zstd: incompressible, stored uncompressed (memcpyed)", zstd1, noise)
    fx.codec("blosc zstd clevel 0 (memcpyed)", numcodecs.Blosc(cname="zstd", clevel=0), image_like(5000, np.dtype("u2"), 3))
    # Noise then a smooth run: some streams compress, others are stored raw inside a compressed chunk.
    mixed = np.concatenate([noise[:20_000], image_like(20_000, np.dtype("u2"), 4)])
    fx.codec("blosc lz4: raw and compressed streams in one chunk", lz4, mixed)
    fx.codec("blosc zstd: raw and compressed streams in one chunk",
             numcodecs.Blosc(cname="zstd", clevel=1, shuffle=1, blocksize=8192), mixed)
    fx.codec("blosc zstd: an empty array", zstd1, np.zeros(0, dtype=np.uint16))
    fx.codec("blosc zstd: fewer bytes than a block", zstd1, np.arange(5, dtype=np.uint16))
    # Our ingest's default (blosc zstd clevel 1, byte shuffle, 256 KiB blocks) on a 512 x 512 uint16 tile.
    tile = image_like(512 * 512, np.dtype("u2"), 9)
    default = make_codec("blosc-zstd")
    assert default is not None
    fx.codec("blosc: chromatile's default ingest, a 512 x 512 uint16 tile", default, tile)
    # The same chunk under its Zarr v3 codec spec (OME-Zarr 0.5 stores).
    fx.add("blosc under a Zarr v3 spec", tile.tobytes(), bytes(default.encode(tile)),
           {"codecs": [{"name": "blosc", "configuration": {"cname": "zstd", "clevel": 1, "shuffle": "shuffle",
                                                           "typesize": 2, "blocksize": 1 << 18}}]})
    # Plain zstd (Zarr v2 compressor, Zarr v3 codec) and numcodecs' lz4.
    for level in (1, 3, 19):
        fx.codec(f"zstd level {level}", numcodecs.Zstd(level=level), tile)
    # zstddec cannot be told "0 bytes" (it reads 0 as unknown): numcodecs/zstd decodes an empty frame.
    fx.codec("zstd: an empty array", numcodecs.Zstd(level=3), np.zeros(0, dtype=np.uint16), own=False)
    for n in (50, 3000):  # frame headers with a 1-byte and a 2-byte content size
        fx.codec(f"zstd: {n} items", numcodecs.Zstd(level=3), image_like(n, np.dtype("u2"), n))
    fx.codec("zstd: an incompressible array", numcodecs.Zstd(level=3), noise)
    fx.add("zstd under a Zarr v3 spec", tile.tobytes(), bytes(numcodecs.Zstd(level=3).encode(tile)),
           {"codecs": [{"name": "zstd", "configuration": {"level": 3, "checksum": False}}]})
    streamed = zstd_frame_without_size(tile.tobytes())
    assert bytes(numcodecs.Zstd().decode(streamed)) == tile.tobytes(), "the hand-made frame is valid zstd"
    fx.add("zstd: a frame without its content size (numcodecs/zstd fallback)", tile.tobytes(), streamed,
           {"id": "zstd", "level": 3}, own=False)
    two = bytes(numcodecs.Zstd(level=3).encode(tile[:1000])) + bytes(numcodecs.Zstd(level=3).encode(tile[1000:]))
    fx.add("zstd: two frames in one chunk (numcodecs/zstd fallback)", tile.tobytes(), two, {"id": "zstd", "level": 3},
           own=False)
    for accel in (1, 10):
        fx.codec(f"lz4 acceleration {accel}", numcodecs.LZ4(acceleration=accel), tile)
    fx.codec("lz4: an empty array", numcodecs.LZ4(), np.zeros(0, dtype=np.uint16))
    # Long runs: matches that overlap what they copy (offset shorter than the match).
    runs = np.concatenate([np.zeros(5000, np.uint16), np.tile(np.arange(3, dtype=np.uint16), 4000), tile[:3000]])
    fx.codec("lz4: runs", numcodecs.LZ4(), runs)
    fx.codec("blosc lz4 noshuffle: runs", numcodecs.Blosc(cname="lz4", shuffle=0), runs)
    fx.codec("lz4: an incompressible array", numcodecs.LZ4(), noise)
    (root / "manifest.json").write_text(json.dumps(fx.cases))
    return fx


def test_fixtures_cover_the_blosc_format_cases(tmp_path: Path) -> None:
    """The chunks below really contain what the decode test is meant to cover."""
    fx = write_fixtures(tmp_path)
    headers = {c["name"]: blosc_header((tmp_path / c["chunk"]).read_bytes())
               for c in fx.cases if c["spec"].get("id") == "blosc"}
    flags = [h[0] for h in headers.values()]
    assert any(f & 0x02 for f in flags), "a memcpyed chunk"
    assert any(f & 0x04 for f in flags), "a bitshuffled chunk"
    assert any(f & 0x01 for f in flags), "a byte-shuffled chunk"
    assert any(not f & 0x10 and not f & 0x02 for f in flags), "a chunk with split blocks"
    assert any(f & 0x10 for f in flags), "a chunk with unsplit blocks"
    assert {f >> 5 for f in flags if not f & 0x02} >= {0, 1, 3, 4}, "blosclz, lz4, zlib, zstd streams"
    assert any(h[2] % h[3] for h in headers.values() if h[3]), "a last partial block"
    assert any(h[2] == 0 for h in headers.values()), "an empty chunk"


def test_viewer_decodes_numcodecs_chunks_byte_exact(tmp_path: Path) -> None:
    node = shutil.which("node")
    assert node, "node is needed for the viewer's unit tests"
    fx = write_fixtures(tmp_path)
    run = subprocess.run([node, str(SCRIPT), str(tmp_path)], check=False, cwd=REPO, capture_output=True,
                         text=True, timeout=240)
    assert run.returncode == 0, f"decode-fixtures.js failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    results = json.loads(run.stdout.strip().splitlines()[-1])
    assert [r["name"] for r in results] == [c["name"] for c in fx.cases], "every chunk was decoded"
    failed = [f"{r['name']}: {r['error']}" for r in results if not r["ok"]]
    assert not failed, f"{len(failed)} of {len(results)} chunks decoded wrong:\n" + "\n".join(failed)

