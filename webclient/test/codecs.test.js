// The decode workers' codecs (codecs.js): loading one for warm() leaves nothing for the first chunk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { warm, decompress } from '../src/codecs.js';

const BLOSC = { id: 'blosc', cname: 'zstd', clevel: 1, shuffle: 1, blocksize: 0 };

test('warm() compiles and instantiates the zstd decoder\'s wasm; the first decode after it makes none', async () => {
  const Blosc = (await import('numcodecs/blosc')).default;
  const pixels = new Uint8Array(8192).map((_, i) => i % 251);
  const chunk = await Blosc.fromConfig(BLOSC).encode(pixels); // numcodecs' own wasm, before counting
  const made = [];
  const instantiate = WebAssembly.instantiate;
  WebAssembly.instantiate = (...args) => {
    // Wasm bytes only: node's fetch (zstddec uses it) instantiates its own precompiled HTTP parser.
    if (!(args[0] instanceof WebAssembly.Module)) made.push(args[0]);
    return instantiate.apply(WebAssembly, args);
  };
  try {
    await warm(BLOSC);
    assert.equal(made.length, 1, 'warm() instantiated one wasm (zstddec)');
    assert.ok(made[0].byteLength < 100_000, `the zstd decoder alone, not numcodecs' build (${made[0].byteLength} bytes)`);
    assert.deepEqual(await decompress(chunk, BLOSC), pixels);
    assert.equal(made.length, 1, 'the first decode used the instance warm() made');
  } finally {
    WebAssembly.instantiate = instantiate;
  }
});
