// Zarr v3 arrays: `zarr.json` metadata, `c/`-prefixed (or v2-style) chunk keys, the codec chain, and
// sharding: a shard file holds many inner chunks and an index of where each lies. The index is read
// once per shard with one Range request, then each inner chunk the view needs with its own.
import { StoreError, fetchBytes, withToken } from './http.js';
import { crc32c } from '../crc32c.js';

const DTYPES = { uint8: 1, uint16: 2 };
const ARRAY_TO_ARRAY = new Set(['transpose']);
const ARRAY_TO_BYTES = new Set(['bytes', 'sharding_indexed']);
const EMPTY = 0xffffffffffffffffn; // an index entry of all ones: the inner chunk is not stored
const INDEX_CACHE = 512; // shard indexes kept per array

function nameOf(codec) { return typeof codec === 'string' ? codec : codec.name; }
function configOf(codec) { return (typeof codec === 'object' && codec.configuration) || {}; }

/** A codec chain split by kind: [array->array], the array->bytes codec, [bytes->bytes]. */
function splitCodecs(codecs, where) {
  const list = Array.isArray(codecs) ? codecs : [];
  const at = list.findIndex((c) => ARRAY_TO_BYTES.has(nameOf(c)));
  if (at < 0) throw new StoreError(`${where}: no "bytes" or "sharding_indexed" codec in ${JSON.stringify(list.map(nameOf))}`);
  const before = list.slice(0, at), after = list.slice(at + 1);
  for (const c of before) {
    if (!ARRAY_TO_ARRAY.has(nameOf(c))) throw new StoreError(`${where}: codec "${nameOf(c)}" is not supported (array codecs: transpose)`);
  }
  return { arrays: before, bytes: list[at], after };
}

/** The decode spec of a chunk encoded by `codecs` (see codecs.js), and its byte order. */
function decodeSpec(codecs, shape, where) {
  const { arrays, bytes, after } = splitCodecs(codecs, where);
  if (nameOf(bytes) !== 'bytes') throw new StoreError(`${where}: shards inside shards are not supported`);
  let transpose = null;
  for (const c of arrays) {
    const order = configOf(c).order;
    if (!Array.isArray(order) || order.length !== shape.length) throw new StoreError(`${where}: transpose order ${JSON.stringify(order)} does not fit ${shape.length} axes`);
    // Two transposes compose: the stored axis k is axis order[k] of the previous layout.
    transpose = transpose ? order.map((a) => transpose[a]) : order.slice();
  }
  return {
    spec: { codecs: after.map((c) => ({ name: nameOf(c), configuration: configOf(c) })), transpose, shape },
    bigEndian: configOf(bytes).endian === 'big',
  };
}

function chunkKeyEncoding(meta) {
  const enc = meta.chunk_key_encoding || { name: 'default' };
  const cfg = enc.configuration || {};
  if (enc.name === 'v2') {
    const sep = cfg.separator || '.';
    return (idx) => (idx.length ? idx.join(sep) : '0');
  }
  if (enc.name === 'default') {
    const sep = cfg.separator || '/';
    return (idx) => ['c', ...idx].join(sep);
  }
  throw new StoreError(`chunk key encoding "${enc.name}" is not supported (default, v2)`);
}

/** Reads shard indexes (cached per shard) and the inner chunks they point to. */
function shardReader(url, token, key, shardShape, sharding, where) {
  const cfg = configOf(sharding);
  const inner = cfg.chunk_shape;
  if (!Array.isArray(inner) || inner.length !== shardShape.length || inner.some((n, i) => shardShape[i] % n)) {
    throw new StoreError(`${where}: inner chunk shape ${JSON.stringify(inner)} does not divide the shard shape ${JSON.stringify(shardShape)}`);
  }
  const perShard = shardShape.map((n, i) => n / inner[i]);
  const count = perShard.reduce((a, b) => a * b, 1);
  const indexCodecs = Array.isArray(cfg.index_codecs) ? cfg.index_codecs : [{ name: 'bytes', configuration: { endian: 'little' } }];
  let littleEndian = true, checksum = false;
  for (const c of indexCodecs) {
    if (nameOf(c) === 'bytes') littleEndian = configOf(c).endian !== 'big';
    else if (nameOf(c) === 'crc32c') checksum = true;
    else throw new StoreError(`${where}: shard index codec "${nameOf(c)}" is not supported (bytes, crc32c)`);
  }
  const indexBytes = 16 * count + (checksum ? 4 : 0);
  const atStart = cfg.index_location === 'start';
  const strides = new Array(perShard.length);
  let s = 1;
  for (let i = perShard.length - 1; i >= 0; i--) { strides[i] = s; s *= perShard[i]; }
  const indexes = new Map();

  async function readIndex(shardUrl) {
    const range = atStart ? { offset: 0, length: indexBytes } : { suffix: indexBytes };
    const buf = await fetchBytes(shardUrl, range, null);
    if (buf === null) return null; // the whole shard is absent: fill value
    if (buf.byteLength !== indexBytes) throw new StoreError(`Shard index of ${shardUrl} is ${buf.byteLength} bytes, expected ${indexBytes}`);
    const bytes = new Uint8Array(buf);
    if (checksum) {
      const stored = new DataView(buf, 16 * count, 4).getUint32(0, true);
      if (crc32c(bytes.subarray(0, 16 * count)) !== stored) throw new StoreError(`Shard index of ${shardUrl} fails its crc32c checksum`);
    }
    return new DataView(buf, 0, 16 * count);
  }

  function indexOf(shardUrl) {
    let p = indexes.get(shardUrl);
    if (p) { indexes.delete(shardUrl); indexes.set(shardUrl, p); return p; }
    p = readIndex(shardUrl);
    p.catch(() => indexes.delete(shardUrl));
    indexes.set(shardUrl, p);
    if (indexes.size > INDEX_CACHE) indexes.delete(indexes.keys().next().value);
    return p;
  }

  return {
    shardShape,
    indexBytes,
    indexLocation: atStart ? 'start' : 'end',
    async chunk(idx, signal) {
      const shardUrl = withToken(`${url}/${key(idx.map((d, i) => Math.floor(d / perShard[i])))}`, token);
      const index = await abortable(indexOf(shardUrl), signal);
      if (index === null) return null;
      const at = 16 * idx.reduce((acc, d, i) => acc + (d % perShard[i]) * strides[i], 0);
      const offset = index.getBigUint64(at, littleEndian), length = index.getBigUint64(at + 8, littleEndian);
      if (offset === EMPTY && length === EMPTY) return null;
      return fetchBytes(shardUrl, { offset: Number(offset), length: Number(length) }, signal);
    },
  };
}

/** Stop waiting for `promise` (shared with others) when `signal` aborts. */
export function abortable(promise, signal) {
  if (!signal) return promise;
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(new DOMException('aborted', 'AbortError'));
    if (signal.aborted) { onAbort(); return; }
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** The array at `url` (its folder) from its parsed `zarr.json`: see ZarrArray in store/index.js. */
export function arrayV3(url, meta, token) {
  const where = `${url}/zarr.json`;
  if (meta.zarr_format !== 3 || meta.node_type !== 'array') throw new StoreError(`${where}: not a Zarr v3 array`);
  const size = DTYPES[meta.data_type];
  if (!size) throw new StoreError(`${where}: data type ${meta.data_type} is not supported (uint8 or uint16 only)`);
  const grid = meta.chunk_grid || {};
  if (grid.name !== 'regular') throw new StoreError(`${where}: chunk grid "${grid.name}" is not supported (regular)`);
  const chunkShape = configOf(grid).chunk_shape;
  const key = chunkKeyEncoding(meta);
  const { arrays, bytes, after } = splitCodecs(meta.codecs, where);
  let chunkOf, tileShape, spec, bigEndian, shard = null;
  if (nameOf(bytes) === 'sharding_indexed') {
    if (arrays.length || after.length) {
      throw new StoreError(`${where}: codecs around "sharding_indexed" are not supported (a compressed shard cannot be read by range)`);
    }
    shard = shardReader(url, token, key, chunkShape, bytes, where);
    tileShape = configOf(bytes).chunk_shape;
    ({ spec, bigEndian } = decodeSpec(configOf(bytes).codecs, tileShape, where));
    chunkOf = shard.chunk;
  } else {
    tileShape = chunkShape;
    ({ spec, bigEndian } = decodeSpec(meta.codecs, tileShape, where));
    chunkOf = (idx, signal) => fetchBytes(withToken(`${url}/${key(idx)}`, token), null, signal);
  }
  const fill = Number(meta.fill_value);
  return {
    url,
    format: 3,
    shape: meta.shape,
    chunkShape: tileShape,
    dtype: { name: meta.data_type, size, bigEndian },
    fill: Number.isFinite(fill) ? fill : 0,
    codec: spec,
    dimensionNames: meta.dimension_names || null,
    shard,
    chunk: chunkOf,
  };
}
