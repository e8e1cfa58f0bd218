// @ts-check
// Blosc 1 chunks (c-blosc 1.x, header format version 2: what numcodecs, zarr and our ingest write;
// version 1 is blosc before 0.9, 2010, which c-blosc 1.x refuses too),
// decoded here with small inner decoders: zstd (zstd.js, a wasm of the decoder alone), lz4 and lz4hc
// (lz4.js), zlib (fflate). numcodecs/blosc (c-blosc with every codec and its encoders, 603 KB) is
// loaded only for streams of a codec not listed, blosclz and snappy, so every store still opens.
//
// The format (c-blosc's README_CHUNK_FORMAT.rst; the rules below follow its blosc.c, blosc_d and
// blosc_run_decompression_with_context):
//   16-byte header: version, versionlz, flags, typesize, nbytes, blocksize, cbytes (all little endian);
//   flags: 0x01 byte shuffle, 0x02 stored uncompressed (the nbytes follow the header), 0x04 bit
//   shuffle, 0x08 reserved (must be 0), 0x10 blocks not split, bits 5-7 the inner codec;
//   then one int32 start per block (from the chunk's start), and at each a block: its streams, each an
//   int32 compressed size and the stream; a stream as long as its decoded size is stored raw.
import { lz4Block } from './lz4.js';

const HEADER = 16;
const DOSHUFFLE = 0x01;
const MEMCPYED = 0x02;
const DOBITSHUFFLE = 0x04;
const RESERVED = 0x08;
const DONT_SPLIT = 0x10;
// A block is split into `typesize` streams (one per byte of the type, after shuffling) unless the
// flag says not to; chunks from before that flag existed (c-blosc < 1.11) split whenever these hold.
const MAX_SPLITS = 16;
const MIN_BUFFERSIZE = 128;
// Bits 5-7 of the flags; the versionlz each was written with (c-blosc refuses any other).
const FORMATS = ['blosclz', 'lz4', 'snappy', 'zlib', 'zstd'];
const FORMAT_VERSION = 1;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** @typedef {(src: Uint8Array, out: Uint8Array) => void} Inner fills `out` exactly or throws */
/** @typedef {(bytes: Uint8Array) => Promise<Uint8Array>} Fallback decodes a whole chunk */

/** @type {Record<string, () => Promise<Inner>>} */
const INNER = {
  lz4: async () => lz4Block,
  zstd: async () => {
    const { loadZstd, zstdExact } = await import('./zstd.js');
    const decoder = await loadZstd();
    return (src, out) => out.set(zstdExact(decoder, src, out.length));
  },
  zlib: async () => {
    const { unzlibSync } = await import('./unzlib.js');
    return (src, out) => {
      const got = unzlibSync(src, { out });
      if (got.length !== out.length) throw new Error(`zlib stream decodes to ${got.length} bytes, expected ${out.length}`);
      if (got !== out) out.set(got);
    };
  },
};

/** @type {Map<string, Promise<Inner>>} */
const inners = new Map();

/** @param {string} name */
function innerFor(name) {
  let p = inners.get(name);
  if (!p) {
    p = INNER[name]();
    inners.set(name, p);
    p.catch(() => inners.delete(name));
  }
  return p;
}

/** numcodecs/blosc, loaded on first use, for the inner codecs this module does not carry. */
/** @type {Fallback} */
async function numcodecsBlosc(bytes) {
  const Blosc = (await import('numcodecs/blosc')).default;
  return new Uint8Array(await Blosc.fromConfig({ id: 'blosc' }).decode(bytes));
}

/**
 * Load the inner decoder of `cname` (a store's configured codec) ahead of its first chunk: the zstd
 * wasm is compiled here, not on the first decode. Other codecs load numcodecs/blosc.
 * @param {string} cname
 * @param {Fallback} [fallback]
 */
export async function warmBlosc(cname, fallback = numcodecsBlosc) {
  const name = cname === 'lz4hc' ? 'lz4' : cname;
  if (name in INNER) await innerFor(name).catch(() => {}); // decodeBlosc falls back, see there
  // Any decode makes numcodecs compile its wasm: now, rather than on the first chunk. (It takes an
  // empty chunk for an error, which does not matter here.)
  else await fallback(EMPTY_CHUNK).catch(() => {});
}

// A Blosc 1 header of an empty chunk (nbytes 0, cbytes 16).
const EMPTY_CHUNK = new Uint8Array([2, 1, 0x01, 1, 0, 0, 0, 0, 0, 0, 0, 0, 16, 0, 0, 0]);

/**
 * Decode one Blosc 1 chunk.
 * @param {Uint8Array} bytes
 * @param {Fallback} [fallback] decodes chunks of inner codecs this module does not carry
 * @returns {Promise<Uint8Array>}
 */
export async function decodeBlosc(bytes, fallback = numcodecsBlosc) {
  if (bytes.length < HEADER) throw new Error(`blosc chunk of ${bytes.length} bytes is shorter than its header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = bytes[0];
  const versionlz = bytes[1];
  const flags = bytes[2];
  const typesize = bytes[3];
  const nbytes = view.getInt32(4, true);
  const blocksize = view.getInt32(8, true);
  const cbytes = view.getInt32(12, true);
  if (nbytes === 0) return new Uint8Array(0); // c-blosc checks nothing else of an empty chunk
  if (version !== 2) throw new Error(`blosc chunk of format version ${version} (this viewer reads Blosc 1 chunks, version 2)`);
  if (flags & RESERVED) throw new Error('blosc chunk sets a reserved flag (a format from the future)');
  if (nbytes < 0 || blocksize <= 0 || blocksize > nbytes || typesize === 0) {
    throw new Error(`blosc chunk header is corrupt (nbytes ${nbytes}, blocksize ${blocksize}, typesize ${typesize})`);
  }
  if (cbytes > bytes.length) throw new Error(`blosc chunk is truncated (${bytes.length} of its ${cbytes} bytes)`);

  if (flags & MEMCPYED) {
    if (cbytes !== nbytes + HEADER) throw new Error(`uncompressed blosc chunk of ${nbytes} bytes has ${cbytes - HEADER}`);
    return bytes.slice(HEADER, HEADER + nbytes);
  }
  const format = FORMATS[flags >> 5];
  if (format === undefined) throw new Error(`blosc chunk names an unknown codec (${flags >> 5})`);
  if (versionlz !== FORMAT_VERSION) throw new Error(`blosc ${format} stream format ${versionlz} is not supported`);
  if (!(format in INNER)) return fallback(bytes);
  let inner;
  // zstddec fetches its wasm from a data: URL, which a page's Content-Security-Policy may refuse.
  try { inner = await innerFor(format); } catch { return fallback(bytes); }

  const nblocks = Math.ceil(nbytes / blocksize);
  const leftover = nbytes % blocksize;
  if (nblocks > (cbytes - HEADER) / 4) throw new Error('blosc chunk is too short for its block table');
  const doShuffle = (flags & DOSHUFFLE) !== 0 && typesize > 1;
  const out = new Uint8Array(nbytes);
  const tmp = new Uint8Array(blocksize);
  for (let j = 0; j < nblocks; j++) {
    const last = j === nblocks - 1 && leftover > 0;
    const bsize = last ? leftover : blocksize;
    const dest = out.subarray(j * blocksize, j * blocksize + bsize);
    const doBitshuffle = !doShuffle && (flags & DOBITSHUFFLE) !== 0 && bsize >= typesize;
    const streams = doShuffle || doBitshuffle ? tmp.subarray(0, bsize) : dest;
    const nsplits = !(flags & DONT_SPLIT) && typesize <= MAX_SPLITS && Math.floor(bsize / typesize) >= MIN_BUFFERSIZE && !last
      ? typesize : 1;
    const neblock = Math.floor(bsize / nsplits);
    let at = view.getInt32(HEADER + 4 * j, true);
    for (let k = 0; k < nsplits; k++) {
      if (at < 0 || at > cbytes - 4) throw new Error(`blosc block ${j} starts outside the chunk`);
      const size = view.getInt32(at, true);
      at += 4;
      if (size < 0 || size > cbytes - at) throw new Error(`blosc block ${j} runs past the end of the chunk`);
      const src = bytes.subarray(at, at + size);
      const into = streams.subarray(k * neblock, (k + 1) * neblock);
      try {
        if (size === neblock) into.set(src);
        else inner(src, into);
      } catch (err) {
        throw new Error(`blosc block ${j}: ${err instanceof Error ? err.message : err}`);
      }
      at += size;
    }
    if (doShuffle) unshuffle(streams, dest, typesize);
    else if (doBitshuffle) bitunshuffle(streams, dest, typesize);
  }
  return out;
}

/**
 * Undo blosc's byte shuffle of one block: byte k of every item, then byte k+1...; the bytes after the
 * last whole item are left as they are.
 * @param {Uint8Array} src
 * @param {Uint8Array} dest
 * @param {number} typesize
 */
export function unshuffle(src, dest, typesize) {
  const n = Math.floor(src.length / typesize);
  if (typesize === 2 && LITTLE_ENDIAN && dest.byteOffset % 4 === 0) {
    // Our ingest's uint16: two items per 32-bit store (a third faster than byte stores).
    const pairs = n >> 1;
    const d = new Uint32Array(dest.buffer, dest.byteOffset, pairs);
    for (let j = 0, i = 0; j < pairs; j++, i += 2) d[j] = src[i] | (src[n + i] << 8) | (src[i + 1] << 16) | (src[n + i + 1] << 24);
    if (n & 1) { dest[2 * n - 2] = src[n - 1]; dest[2 * n - 1] = src[2 * n - 1]; }
  } else if (typesize === 2) {
    for (let i = 0, o = 0; i < n; i++, o += 2) { dest[o] = src[i]; dest[o + 1] = src[n + i]; }
  } else {
    for (let k = 0; k < typesize; k++) {
      const row = k * n;
      for (let i = 0, o = k; i < n; i++, o += typesize) dest[o] = src[row + i];
    }
  }
  const whole = n * typesize;
  dest.set(src.subarray(whole), whole);
}

/**
 * Undo blosc's bit shuffle of one block (bitshuffle's bit transpose, c-blosc's
 * bshuf_untrans_bit_elem): 8 * typesize rows of n / 8 bytes, row 8k+b holding bit b of byte k of every
 * item, item i in bit i % 8 of byte i / 8. Blocks of a number of items not a multiple of 8 are stored
 * unshuffled; the bytes after the last whole item as they are.
 * @param {Uint8Array} src
 * @param {Uint8Array} dest
 * @param {number} typesize
 */
export function bitunshuffle(src, dest, typesize) {
  const n = Math.floor(src.length / typesize);
  if (n % 8 !== 0) { dest.set(src); return; }
  const rowLen = n / 8;
  for (let k = 0; k < typesize; k++) {
    const rows = 8 * k * rowLen;
    for (let g = 0; g < rowLen; g++) {
      // The 8 x 8 bits of items 8g..8g+7, byte k: row b's byte g holds bit b of each of them.
      let lo = 0;
      let hi = 0;
      for (let b = 0; b < 4; b++) lo |= src[rows + b * rowLen + g] << (8 * b);
      for (let b = 0; b < 4; b++) hi |= src[rows + (b + 4) * rowLen + g] << (8 * b);
      let o = 8 * g * typesize + k;
      for (let i = 0; i < 8; i++, o += typesize) {
        // Bit i of each row byte, gathered: row b's bit i becomes bit b of item 8g+i's byte.
        const l = (lo >>> i) & 0x01010101;
        const h = (hi >>> i) & 0x01010101;
        dest[o] = (l & 1) | ((l >>> 7) & 2) | ((l >>> 14) & 4) | ((l >>> 21) & 8)
          | ((h << 4) & 16) | ((h >>> 3) & 32) | ((h >>> 10) & 64) | ((h >>> 17) & 128);
      }
    }
  }
  const whole = n * typesize;
  dest.set(src.subarray(whole), whole);
}
