// Decodes chunks off the main thread: bytes in, a typed array of the chunk's pixels out (transferred).
// `compressor` is the level's decode spec (see codecs.js); codecs load on first use.
import { decompress, untranspose, warm } from './codecs.js';

self.onmessage = async (event) => {
  if (event.data.warm !== undefined) {
    // Load the store's codecs while the viewer is still reading metadata; errors surface on decode.
    try { await warm(event.data.warm); } catch { /* reported by the first real decode */ }
    self.postMessage({ warmed: true });
    return;
  }
  const { id, bytes, compressor, dtype, length, planes = 1, plane = 0 } = event.data;
  const t0 = performance.now();
  try {
    let raw = await decompress(new Uint8Array(bytes), compressor);
    const itemSize = dtype.size;
    if (raw.byteLength !== planes * length * itemSize) {
      throw new Error(`chunk decodes to ${raw.byteLength} bytes, expected ${planes * length * itemSize}`);
    }
    if (compressor && compressor.transpose) raw = untranspose(raw, compressor.shape, compressor.transpose, itemSize);
    if (planes > 1) raw = raw.slice(plane * length * itemSize, (plane + 1) * length * itemSize);
    // Own, aligned buffer: the wasm heap view is reused by the next decode.
    raw = raw.byteOffset === 0 && raw.byteLength === raw.buffer.byteLength ? raw : raw.slice();
    if (itemSize === 2 && dtype.bigEndian) {
      for (let i = 0; i < raw.length; i += 2) { const b = raw[i]; raw[i] = raw[i + 1]; raw[i + 1] = b; }
    }
    const pixels = itemSize === 2 ? new Uint16Array(raw.buffer) : raw;
    self.postMessage({ id, pixels, ms: performance.now() - t0 }, [pixels.buffer]);
  } catch (err) {
    self.postMessage({ id, error: String(err && err.message || err) });
  }
};
