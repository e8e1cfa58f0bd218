// @ts-check
// The LZ4 block format (the raw block, no frame): what blosc's lz4 and lz4hc streams hold, and
// numcodecs' `lz4` codec after its 4-byte size. A block is a run of sequences, each a token (high
// nibble: literal count, low nibble: match length - 4; 15 = more bytes follow, each adding up to 255),
// the literals, then a 2-byte little-endian offset back into the output and the match; the last
// sequence stops after its literals.

/**
 * Decode one LZ4 block into `out`, which it must fill exactly (its size is known from the container).
 * @param {Uint8Array} src
 * @param {Uint8Array} out
 */
export function lz4Block(src, out) {
  const end = src.length;
  const size = out.length;
  let s = 0;
  let d = 0;
  for (;;) {
    if (s >= end) throw new Error('lz4 block ends inside a sequence');
    const token = src[s++];
    let lit = token >>> 4;
    if (lit === 15) {
      let b;
      do {
        if (s >= end) throw new Error('lz4 block ends inside a literal length');
        b = src[s++];
        lit += b;
      } while (b === 255);
    }
    if (lit > end - s || lit > size - d) throw new Error('lz4 literals run past the block or its decoded size');
    if (lit > 32) {
      out.set(src.subarray(s, s + lit), d);
      s += lit;
      d += lit;
    } else {
      for (let i = 0; i < lit; i++) out[d++] = src[s++];
    }
    if (s === end) break;
    if (end - s < 2) throw new Error('lz4 block ends inside a match offset');
    const offset = src[s] | (src[s + 1] << 8);
    s += 2;
    if (offset === 0 || offset > d) throw new Error('lz4 match offset points before the start of the block');
    let len = token & 15;
    if (len === 15) {
      let b;
      do {
        if (s >= end) throw new Error('lz4 block ends inside a match length');
        b = src[s++];
        len += b;
      } while (b === 255);
    }
    len += 4;
    if (len > size - d) throw new Error('lz4 match runs past the decoded size');
    let m = d - offset;
    if (offset >= len && len > 32) {
      out.copyWithin(d, m, m + len);
      d += len;
    } else {
      // Overlapping (offset < length) repeats the last `offset` bytes: a forward byte copy does that.
      for (let i = 0; i < len; i++) out[d++] = out[m++];
    }
  }
  if (d !== size) throw new Error(`lz4 block decodes to ${d} bytes, expected ${size}`);
}

/**
 * numcodecs' `lz4` codec: a 4-byte little-endian decoded size, then one LZ4 block.
 * @param {Uint8Array} bytes
 */
export function decodeLz4Codec(bytes) {
  if (bytes.length < 4) throw new Error('lz4 chunk too short for its size header');
  const size = new DataView(bytes.buffer, bytes.byteOffset, 4).getInt32(0, true);
  if (size < 0) throw new Error(`lz4 chunk declares a negative size (${size})`);
  const out = new Uint8Array(size);
  if (size > 0 || bytes.length > 4) lz4Block(bytes.subarray(4), out);
  return out;
}
