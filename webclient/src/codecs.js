// Zarr v2 codec registry of the decode worker: adding a codec is one entry in CODECS.
// numcodecs.js (the wasm builds of c-blosc and zstd, fflate for gzip/zlib, lz4) inlines its wasm, so it
// bundles into the Blob worker as is; bench/viewer prints the decode time per chunk it achieves.
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
