// Zarr v2 arrays: `.zarray` metadata, chunk keys joined by the dimension separator, one file per chunk.
import { StoreError, fetchBytes, withToken } from './http.js';

const DTYPES = {
  '|u1': { name: 'uint8', size: 1, bigEndian: false },
  '<u1': { name: 'uint8', size: 1, bigEndian: false },
  '>u1': { name: 'uint8', size: 1, bigEndian: false },
  '<u2': { name: 'uint16', size: 2, bigEndian: false },
  '>u2': { name: 'uint16', size: 2, bigEndian: true },
};

/**
 * Whether a chunk (its index per axis) is listed as left out by our own stores' `chromatile.absent`
 * entry of this level: run lengths over the chunk grid in C order, [other, absent, other, ...]
 * (docs/store-format.md; a chunk not listed is fetched, it may still be absent). Null when the entry is
 * missing, malformed or written for another grid: then every chunk is fetched and a 404 is the fill
 * value, as for any store. Twin of storemeta.read_absent.
 */
export function absentChunks(entry, grid) {
  if (!entry || typeof entry !== 'object' || !Array.isArray(entry.grid) || !Array.isArray(entry.runs)) return null;
  if (entry.grid.length !== grid.length || entry.grid.some((n, i) => n !== grid[i])) return null;
  const starts = [];
  const ends = [];
  let at = 0;
  for (let i = 0; i < entry.runs.length; i++) {
    const run = entry.runs[i];
    if (!Number.isInteger(run) || run < 0) return null;
    if (i % 2 && run) { starts.push(at); ends.push(at + run); }
    at += run;
  }
  if (at !== grid.reduce((a, n) => a * n, 1)) return null;
  return (idx) => {
    let n = 0;
    for (let i = 0; i < grid.length; i++) {
      if (!(idx[i] >= 0 && idx[i] < grid[i])) return false; // outside the grid: not ours to answer
      n = n * grid[i] + idx[i];
    }
    let lo = 0;
    let hi = starts.length; // the last range starting at or before n
    while (lo < hi) { const mid = (lo + hi) >> 1; if (starts[mid] <= n) lo = mid + 1; else hi = mid; }
    return lo > 0 && n < ends[lo - 1];
  };
}

/**
 * The array at `url` (its folder) from its parsed `.zarray`: see ZarrArray in store/index.js.
 * `absent` is the level's `chromatile.absent` entry, if any: chunks it lists are the fill value
 * without a request (no 404 for the browser to log).
 */
export function arrayV2(url, zarray, token, absent = null) {
  const where = `${url}/.zarray`;
  if (zarray.zarr_format !== 2) throw new StoreError(`${where}: zarr_format ${zarray.zarr_format}, expected 2`);
  const dtype = DTYPES[zarray.dtype];
  if (!dtype) throw new StoreError(`${where}: data type ${zarray.dtype} is not supported (unsigned 8 or 16 bit only)`);
  if (zarray.order && zarray.order !== 'C') throw new StoreError(`${where}: only C order is supported`);
  if (zarray.filters && zarray.filters.length) throw new StoreError(`${where}: Zarr filters are not supported`);
  const separator = zarray.dimension_separator || '.';
  const key = (idx) => (idx.length ? idx.join(separator) : '0');
  const grid = Array.isArray(zarray.shape) && Array.isArray(zarray.chunks)
    ? zarray.shape.map((n, i) => Math.ceil(n / zarray.chunks[i])) : [];
  const isAbsent = absentChunks(absent, grid);
  return {
    url,
    format: 2,
    shape: zarray.shape,
    chunkShape: zarray.chunks,
    dtype,
    fill: Number(zarray.fill_value) || 0,
    codec: zarray.compressor || null,
    chunk: (idx, signal) => (isAbsent && isAbsent(idx) ? Promise.resolve(null)
      : fetchBytes(withToken(`${url}/${key(idx)}`, token), null, signal)),
  };
}
