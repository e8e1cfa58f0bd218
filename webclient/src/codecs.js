// Zarr v2 codec registry of the decode worker: adding a codec is one entry in CODECS.
// numcodecs.js (wasm blosc and zstd, fflate for gzip/zlib) was measured fastest on a 512x512 uint16
// tile (see docs/viewer.md), and its wasm is inlined, so it bundles into a Blob worker as is.
import Blosc from 'numcodecs/blosc';
import Zstd from 'numcodecs/zstd';
import GZip from 'numcodecs/gzip';
import Zlib from 'numcodecs/zlib';
import LZ4 from 'numcodecs/lz4';

const CODECS = { blosc: Blosc, zstd: Zstd, gzip: GZip, zlib: Zlib, lz4: LZ4 };

const instances = new Map();

/** Names of the compressors this viewer decodes. */
export const CODEC_NAMES = Object.keys(CODECS);

function codecFor(config) {
  const key = JSON.stringify(config);
  let codec = instances.get(key);
  if (!codec) {
    const cls = CODECS[config.id];
    if (!cls) throw new Error(`unsupported Zarr compressor "${config.id}" (this viewer decodes ${CODEC_NAMES.join(', ')})`);
    codec = cls.fromConfig(config);
    instances.set(key, codec);
  }
  return codec;
}

/** Decompress one chunk's bytes with a Zarr v2 compressor config (null: stored raw). */
export async function decompress(bytes, config) {
  if (!config) return bytes;
  return new Uint8Array(await codecFor(config).decode(bytes));
}

/** Instantiate the codec of `config` now (wasm compile), by a round trip of a few bytes. */
export async function warm(config) {
  if (!config) return;
  const codec = codecFor(config);
  await codec.decode(await codec.encode(new Uint8Array(64)));
}
