// Zarr v2 arrays: `.zarray` metadata, chunk keys joined by the dimension separator, one file per chunk.
import { StoreError, fetchBytes, withToken } from './http.js';

const DTYPES = {
  '|u1': { name: 'uint8', size: 1, bigEndian: false },
  '<u1': { name: 'uint8', size: 1, bigEndian: false },
  '>u1': { name: 'uint8', size: 1, bigEndian: false },
  '<u2': { name: 'uint16', size: 2, bigEndian: false },
  '>u2': { name: 'uint16', size: 2, bigEndian: true },
};

/** The array at `url` (its folder) from its parsed `.zarray`: see ZarrArray in store/index.js. */
export function arrayV2(url, zarray, token) {
  const where = `${url}/.zarray`;
  if (zarray.zarr_format !== 2) throw new StoreError(`${where}: zarr_format ${zarray.zarr_format}, expected 2`);
  const dtype = DTYPES[zarray.dtype];
  if (!dtype) throw new StoreError(`${where}: data type ${zarray.dtype} is not supported (unsigned 8 or 16 bit only)`);
  if (zarray.order && zarray.order !== 'C') throw new StoreError(`${where}: only C order is supported`);
  if (zarray.filters && zarray.filters.length) throw new StoreError(`${where}: Zarr filters are not supported`);
  const separator = zarray.dimension_separator || '.';
  const key = (idx) => (idx.length ? idx.join(separator) : '0');
  return {
    url,
    format: 2,
    shape: zarray.shape,
    chunkShape: zarray.chunks,
    dtype,
    fill: Number(zarray.fill_value) || 0,
    codec: zarray.compressor || null,
    chunk: (idx, signal) => fetchBytes(withToken(`${url}/${key(idx)}`, token), null, signal),
  };
}
