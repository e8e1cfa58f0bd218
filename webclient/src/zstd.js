// @ts-check
// zstd frames, decoded by zstddec: zstd's own single-file decoder built to wasm (54 KB, no
// encoder), where numcodecs/zstd carries the whole library (747 KB of JS with its wasm inlined) that
// each decode worker had to parse and compile before its first chunk. zstddec needs the decoded size
// up front: blosc knows it for each of its streams, and a Zarr zstd chunk's frame header declares it
// unless a streaming writer left it out; such chunks go to numcodecs/zstd (codecs.js).
import { ZSTDDecoder } from 'zstddec';

/** @type {Promise<ZSTDDecoder> | null} */
let loading = null;

/** The worker's zstd decoder, its wasm compiled and instantiated (once). */
export function loadZstd() {
  if (!loading) {
    const decoder = new ZSTDDecoder();
    loading = decoder.init().then(() => decoder);
    loading.catch(() => { loading = null; });
  }
  return loading;
}

/**
 * Decode zstd data whose decoded size is known; throws when it does not decode to exactly `size` bytes
 * (zstddec reports a failed decode as a short result).
 * @param {ZSTDDecoder} decoder
 * @param {Uint8Array} src
 * @param {number} size
 */
export function zstdExact(decoder, src, size) {
  if (size === 0) throw new Error('zstd stream of no bytes'); // zstddec reads 0 as "size unknown"
  const out = decoder.decode(src, size);
  if (out.length !== size) throw new Error(`zstd stream is corrupt (decodes to ${out.length} of its ${size} bytes)`);
  return out;
}

/**
 * Decode a Zarr zstd chunk: with `decoder` when its frame declares its size, else (a frame from a
 * streaming writer, several frames, or corrupt bytes; or no decoder, see loadZstd) with `fallback`,
 * which also names what is wrong.
 * @param {ZSTDDecoder | null} decoder
 * @param {Uint8Array} bytes
 * @param {(bytes: Uint8Array) => Promise<Uint8Array>} fallback
 */
export async function decodeZstdChunk(decoder, bytes, fallback) {
  const size = frameContentSize(bytes);
  if (decoder && size > 0) {
    try { return zstdExact(decoder, bytes, size); } catch { /* several frames, or corrupt */ }
  }
  return fallback(bytes);
}

const MAGIC = 0xfd2fb528;

/**
 * The decoded size a zstd frame declares in its header (Frame_Content_Size, RFC 8878 3.1.1.1), or -1
 * when the frame leaves it out or the bytes do not start with a zstd frame.
 * @param {Uint8Array} bytes
 */
export function frameContentSize(bytes) {
  if (bytes.length < 5) return -1;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== MAGIC) return -1;
  const descriptor = bytes[4];
  const singleSegment = (descriptor >> 5) & 1;
  const fieldSize = [singleSegment ? 1 : 0, 2, 4, 8][descriptor >> 6];
  if (fieldSize === 0) return -1;
  const at = 5 + (singleSegment ? 0 : 1) + [0, 1, 2, 4][descriptor & 3];
  if (at + fieldSize > bytes.length) return -1;
  if (fieldSize === 1) return bytes[at];
  if (fieldSize === 2) return view.getUint16(at, true) + 256;
  if (fieldSize === 4) return view.getUint32(at, true);
  const high = view.getUint32(at + 4, true);
  return high >= 1 << 20 ? -1 : high * 2 ** 32 + view.getUint32(at, true); // past 2^52: not a chunk
}
