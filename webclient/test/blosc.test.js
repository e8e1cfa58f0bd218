// blosc.js on damaged chunks: each is refused with an error naming what is wrong, never decoded into
// wrong pixels. (Exactness on numcodecs' chunks: tests/webclient/test_codecs_exact.py.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeBlosc } from '../src/blosc.js';

const pixels = new Uint8Array(1 << 16).map((_, i) => (i * 13) >> 6);

async function encode(config) {
  const Blosc = (await import('numcodecs/blosc')).default;
  return new Uint8Array(await Blosc.fromConfig(config).encode(pixels));
}

const noFallback = async () => { throw new Error('fell back to numcodecs'); };

test('a chunk decodes to its bytes (numcodecs.js encoded: zstd and lz4)', async () => {
  for (const cname of ['zstd', 'lz4']) {
    const chunk = await encode({ cname, clevel: 5, shuffle: 1, blocksize: 4096 });
    assert.deepEqual(await decodeBlosc(chunk, noFallback), pixels, cname);
  }
});

test('damaged chunks are refused with the reason', async () => {
  const chunk = await encode({ cname: 'zstd', clevel: 5, shuffle: 1, blocksize: 4096 });
  const damaged = (edit) => { const c = chunk.slice(); edit(c); return c; };
  const cases = [
    [chunk.subarray(0, 10), /shorter than its header/],
    [chunk.subarray(0, chunk.length - 1), /truncated/],
    [damaged((c) => { c[0] = 3; }), /format version 3/],
    [damaged((c) => { c[2] |= 0x08; }), /reserved flag/],
    [damaged((c) => { c[1] = 2; }), /stream format 2/],
    [damaged((c) => { c[2] = (c[2] & 0x1f) | (6 << 5); }), /unknown codec/],
    [damaged((c) => { new DataView(c.buffer).setInt32(8, 0, true); }), /header is corrupt/],
    [damaged((c) => { new DataView(c.buffer).setInt32(16, chunk.length, true); }), /block 0 starts outside/],
    [damaged((c) => { new DataView(c.buffer).setInt32(new DataView(c.buffer).getInt32(16, true), 1 << 20, true); }),
      /block 0 runs past the end/],
    [damaged((c) => { const at = new DataView(c.buffer).getInt32(16, true) + 4; c.fill(0x55, at + 8, at + 40); }),
      /block 0: zstd stream is corrupt/],
  ];
  for (const [bytes, reason] of cases) await assert.rejects(decodeBlosc(bytes, noFallback), reason);
});

test('an lz4 stream that does not fill its block is refused', async () => {
  const chunk = await encode({ cname: 'lz4', clevel: 5, shuffle: 0, blocksize: 4096 });
  const c = chunk.slice();
  const view = new DataView(c.buffer);
  const at = view.getInt32(16, true);
  view.setInt32(at, view.getInt32(at, true) - 3, true); // the stream's last bytes cut off
  await assert.rejects(decodeBlosc(c, noFallback), /block 0: lz4/);
});
