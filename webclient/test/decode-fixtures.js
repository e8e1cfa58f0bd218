// Decodes the chunks tests/webclient/test_codecs_exact.py wrote with Python's numcodecs and compares
// each with the bytes it was made from. Run by that test (not named *.test.js: it needs its fixtures):
//   node webclient/test/decode-fixtures.js DIR   (DIR/manifest.json: [{name, spec, chunk, raw, own}])
// Prints one JSON line: [{name, ok, error}]. Every chunk goes through codecs.js (what the workers run);
// blosc and zstd chunks also through blosc.js / zstd.js with a fallback that only records its use, so
// a chunk we mean to decode ourselves (`own`) is shown to be, not by numcodecs behind our code.
import fs from 'node:fs';
import path from 'node:path';
import { decompress } from '../src/codecs.js';
import { decodeBlosc } from '../src/blosc.js';
import { decodeZstdChunk, loadZstd } from '../src/zstd.js';

const dir = process.argv[2];
const cases = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));

function firstDifference(a, b) {
  if (a.length !== b.length) return `${a.length} bytes, expected ${b.length}`;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return `byte ${i} is ${a[i]}, expected ${b[i]}`;
  return null;
}

const results = [];
for (const c of cases) {
  const chunk = new Uint8Array(fs.readFileSync(path.join(dir, c.chunk)));
  const raw = new Uint8Array(fs.readFileSync(path.join(dir, c.raw)));
  let error = null;
  try {
    error = firstDifference(await decompress(chunk, c.spec), raw);
    const name = c.spec.id || c.spec.codecs[0].name;
    if (!error && (name === 'blosc' || name === 'zstd')) {
      let fellBack = false;
      const refuse = async () => { fellBack = true; return new Uint8Array(0); };
      const own = name === 'blosc' ? await decodeBlosc(chunk, refuse)
        : await decodeZstdChunk(await loadZstd(), chunk, refuse);
      if (c.own && fellBack) error = `${name}: our decoder handed the chunk to numcodecs`;
      else if (!c.own && !fellBack) error = `${name}: our decoder took a chunk meant for numcodecs`;
      else if (c.own) error = firstDifference(own, raw);
    }
  } catch (err) {
    error = `threw: ${err && err.message || err}`;
  }
  results.push({ name: c.name, ok: error === null, error });
}
console.log(JSON.stringify(results));
