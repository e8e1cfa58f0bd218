// The codec registry of the decode workers: adding a codec is one entry in CODECS.
// A chunk's decode spec is either a Zarr v2 compressor config ({id, ...}, null when stored raw) or a
// Zarr v3 pipeline ({codecs: [bytes-to-bytes codecs in encode order], transpose, shape}; the array's
// `bytes` codec is the dtype's endianness, applied by the worker). Each entry is loaded on first use,
// so a store only pays for the codecs it uses.
import { decodeBlosc, warmBlosc } from './blosc.js';
import { crc32c } from './crc32c.js';
import { decodeLz4Codec } from './lz4.js';

// numcodecs compiles and instantiates a codec's wasm on its first encode or decode. A round trip of
// this sample does it when the codec is loaded (warm(): while the metadata is read and the first
// chunks fetched), not on the first chunk (bench/viewer: 110-180 ms of the first decodes).
const SAMPLE = new Uint8Array(4096).map((_, i) => (i * 7) >> 3);

const numcodec = (load) => async (config) => {
  const cls = (await load()).default;
  const codec = cls.fromConfig(config);
  try { await codec.decode(await codec.encode(SAMPLE)); } catch { /* a real decode reports the problem */ }
  return async (bytes) => new Uint8Array(await codec.decode(bytes));
};

// Blosc and zstd are decoded by our own small modules (blosc.js, zstd.js: a wasm of zstd's decoder
// alone), not numcodecs' builds of the whole libraries (600-750 KB each, encoders included, parsed and
// compiled by every worker before its first chunk). numcodecs stays the fallback for what those do
// not cover (blosclz and snappy streams, zstd frames that do not declare their size), loaded then only.
const CODECS = {
  // Blosc, gzip and zstd decode from their own headers: the config only matters for encoding (blosc's
  // cname says which inner decoder to load ahead of the first chunk).
  blosc: async (config) => {
    await warmBlosc(config.cname || 'zstd');
    return decodeBlosc;
  },
  zstd: async () => {
    const { loadZstd, decodeZstdChunk } = await import('./zstd.js');
    // zstddec fetches its wasm from a data: URL, which a page's Content-Security-Policy may refuse.
    const decoder = await loadZstd().catch(() => null);
    let numcodecs = null;
    const fallback = async (bytes) => {
      numcodecs = numcodecs || numcodec(() => import('numcodecs/zstd'))({});
      return (await numcodecs)(bytes);
    };
    return (bytes) => decodeZstdChunk(decoder, bytes, fallback);
  },
  gzip: numcodec(() => import('numcodecs/gzip')),
  zlib: numcodec(() => import('numcodecs/zlib')),
  lz4: async () => async (bytes) => decodeLz4Codec(bytes),
  // Zarr v3: a CRC-32C of the bytes, appended; checked, then cut off.
  crc32c: async () => async (bytes) => {
    if (bytes.byteLength < 4) throw new Error('chunk too short for its crc32c checksum');
    const body = bytes.subarray(0, bytes.byteLength - 4);
    const stored = new DataView(bytes.buffer, bytes.byteOffset + body.byteLength, 4).getUint32(0, true);
    if (crc32c(body) !== stored) throw new Error('chunk fails its crc32c checksum (corrupt or truncated)');
    return body;
  },
};

/** Names of the codecs this viewer decodes (besides Zarr v3 `bytes`, `transpose` and `sharding_indexed`). */
export const CODEC_NAMES = Object.keys(CODECS);

const decoders = new Map();

function decoderFor(name, config) {
  const key = `${name}:${JSON.stringify(config)}`;
  let d = decoders.get(key);
  if (!d) {
    const make = CODECS[name];
    if (!make) throw new Error(`unsupported Zarr codec "${name}" (this viewer decodes ${CODEC_NAMES.join(', ')})`);
    d = make(config || {});
    decoders.set(key, d);
    d.catch(() => decoders.delete(key));
  }
  return d;
}

/** The bytes-to-bytes codecs of a decode spec, in encode order, as [{name, configuration}]. */
export function codecList(spec) {
  if (!spec) return [];
  if (spec.id) return [{ name: spec.id, configuration: spec }];
  return spec.codecs || [];
}

/** Undo the bytes-to-bytes codecs of `spec` (last applied first). */
export async function decompress(bytes, spec) {
  let out = bytes;
  const list = codecList(spec);
  for (let i = list.length - 1; i >= 0; i--) out = await (await decoderFor(list[i].name, list[i].configuration))(out);
  return out;
}

/**
 * Reorder a chunk stored transposed (Zarr v3 `transpose`, stored axis k = array axis order[k]) back to
 * C order over `shape` (the array's chunk shape), for items of `size` bytes.
 */
export function untranspose(bytes, shape, order, size) {
  const n = shape.length;
  if (order.every((a, k) => a === k)) return bytes;
  const stored = order.map((a) => shape[a]);
  const storedStride = new Array(n);
  let s = 1;
  for (let k = n - 1; k >= 0; k--) { storedStride[k] = s; s *= stored[k]; }
  const strideOf = new Array(n); // stride in the stored layout of each array axis
  order.forEach((a, k) => { strideOf[a] = storedStride[k]; });
  const out = new Uint8Array(bytes.byteLength);
  const idx = new Array(n).fill(0);
  const total = shape.reduce((a, b) => a * b, 1);
  let src = 0;
  for (let i = 0; i < total; i++) {
    out.set(bytes.subarray(src * size, src * size + size), i * size);
    for (let d = n - 1; d >= 0; d--) {
      idx[d]++;
      src += strideOf[d];
      if (idx[d] < shape[d]) break;
      src -= strideOf[d] * shape[d];
      idx[d] = 0;
    }
  }
  return out;
}

/** Load and instantiate the codecs of `spec` now (wasm compile), so the first chunk does not wait. */
export async function warm(spec) {
  await Promise.all(codecList(spec).map((c) => decoderFor(c.name, c.configuration)));
}
