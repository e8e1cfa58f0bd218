// OME-Zarr (NGFF 0.4, Zarr v2) reader over HTTP: metadata, chunk URLs and chunk bytes.
// Reads any store with t/c/z/y/x axes in any subset ('.' or '/' separators, u1/u2 data), and any
// chunk shape: a chunk holding several planes or channels is fetched once and each plane cut from it.

/** An error opening or reading a store, with a message for the user. */
export class StoreError extends Error {}

const DTYPES = {
  '|u1': { name: 'uint8', size: 1, bigEndian: false },
  '<u1': { name: 'uint8', size: 1, bigEndian: false },
  '>u1': { name: 'uint8', size: 1, bigEndian: false },
  '<u2': { name: 'uint16', size: 2, bigEndian: false },
  '>u2': { name: 'uint16', size: 2, bigEndian: true },
};

/** `url` with the page's access token added (it covers every URL of a private image). */
export function withToken(url, token) {
  if (!token) return url;
  return url + (url.includes('?') ? '&' : '?') + 'token=' + encodeURIComponent(token);
}

async function errorText(response) {
  try {
    const text = await response.text();
    try { return JSON.parse(text).error || text; } catch { return text.slice(0, 200); }
  } catch { return ''; }
}

async function getJson(url, token, what) {
  let response;
  try {
    response = await fetch(withToken(url, token));
  } catch (err) {
    throw new StoreError(`Cannot read ${what} at ${url}: network error (${err.message})`);
  }
  if (!response.ok) {
    const detail = await errorText(response);
    throw new StoreError(`Cannot read ${what} at ${url}: HTTP ${response.status}${detail ? ` - ${detail}` : ''}`);
  }
  try {
    return await response.json();
  } catch {
    throw new StoreError(`Cannot read ${what} at ${url}: not valid JSON`);
  }
}

function hexColor(c, fallback) {
  const s = String(c || '').replace(/^#/, '');
  return /^[0-9a-fA-F]{6}$/.test(s) ? '#' + s.toLowerCase() : fallback;
}

const FALLBACK_COLORS = ['#ffffff', '#00ff00', '#ff0000', '#0000ff', '#ff00ff', '#ffff00', '#00ffff'];

/** Open the OME-Zarr image at `url` (no trailing slash needed). Resolves to an ImageSource. */
export async function openImage(url, { token = null } = {}) {
  const base = url.replace(/\/+$/, '');
  const attrs = await getJson(`${base}/.zattrs`, token, 'the image metadata (.zattrs)');
  const ms = attrs.multiscales && attrs.multiscales[0];
  if (!ms || !Array.isArray(ms.datasets) || ms.datasets.length === 0) {
    throw new StoreError(`${base}/.zattrs has no "multiscales" datasets: not an OME-Zarr image`);
  }
  const axes = (ms.axes || [{ name: 't' }, { name: 'c' }, { name: 'z' }, { name: 'y' }, { name: 'x' }])
    .map((a) => (typeof a === 'string' ? a : a.name).toLowerCase());
  for (const a of axes) {
    if (!['t', 'c', 'z', 'y', 'x'].includes(a)) throw new StoreError(`${base}: unsupported axis "${a}"`);
  }
  const arrays = await Promise.all(ms.datasets.map((d) => getJson(`${base}/${d.path}/.zarray`, token, `array ${d.path} (.zarray)`)));
  const levels = ms.datasets.map((d, i) => describeLevel(base, d, arrays[i], axes));
  const l0 = levels[0];
  for (const lv of levels) {
    lv.downsample = l0.size.x / lv.size.x;
    const scale = scaleOf(ms.datasets[levels.indexOf(lv)]);
    const scale0 = scaleOf(ms.datasets[0]);
    if (scale && scale0) lv.downsample = scale[axes.indexOf('x')] / scale0[axes.indexOf('x')];
  }
  const xAxis = ms.axes && ms.axes[axes.indexOf('x')];
  const scale0 = scaleOf(ms.datasets[0]);
  const omero = attrs.omero || {};
  const extra = attrs.chromatile || {};
  const dtypeRange = l0.dtype.name === 'uint8' ? 255 : 65535;
  const channels = [];
  for (let c = 0; c < l0.size.c; c++) {
    const oc = (omero.channels || [])[c] || {};
    const ex = (extra.channels || [])[c] || {};
    const rd = (extra.rendering || [])[c] || {};
    const win = oc.window || {};
    channels.push({
      label: oc.label || `Channel ${c}`,
      color: hexColor(oc.color, FALLBACK_COLORS[c % FALLBACK_COLORS.length]),
      window: [Number.isFinite(win.start) ? win.start : (ex.min ?? 0), Number.isFinite(win.end) ? win.end : (ex.max ?? dtypeRange)],
      visible: oc.active !== undefined ? Boolean(oc.active) : c < 4,
      gamma: Number.isFinite(rd.gamma) ? rd.gamma : 1,
      invert: Boolean(oc.inverted),
      colormap: rd.colormap || 'color',
      histogram: ex.histogram || null,
      min: ex.min ?? 0,
      max: ex.max ?? dtypeRange,
    });
  }
  const rdefs = omero.rdefs || {};
  return {
    url: base,
    token,
    name: ms.name || omero.name || base.split('/').pop(),
    axes,
    levels,
    dtype: l0.dtype,
    width: l0.size.x,
    height: l0.size.y,
    sizeZ: l0.size.z,
    sizeT: l0.size.t,
    sizeC: l0.size.c,
    tile: { x: l0.chunk.x, y: l0.chunk.y },
    defaultZ: clampInt(rdefs.defaultZ ?? Math.floor(l0.size.z / 2), 0, l0.size.z - 1),
    defaultT: clampInt(rdefs.defaultT ?? 0, 0, l0.size.t - 1),
    pixelSize: scale0 ? scale0[axes.indexOf('x')] : 1,
    unit: (xAxis && xAxis.unit) || null,
    channels,
    attrs,
  };
}

function clampInt(v, lo, hi) { return Math.max(lo, Math.min(hi, Math.round(v))); }

function scaleOf(dataset) {
  const s = (dataset.coordinateTransformations || []).find((t) => t.type === 'scale');
  return s ? s.scale : null;
}

function describeLevel(base, dataset, zarray, axes) {
  const where = `${base}/${dataset.path}/.zarray`;
  if (zarray.zarr_format !== 2) throw new StoreError(`${where}: only Zarr v2 is supported`);
  const dtype = DTYPES[zarray.dtype];
  if (!dtype) throw new StoreError(`${where}: data type ${zarray.dtype} is not supported (unsigned 8 or 16 bit only)`);
  if (zarray.order && zarray.order !== 'C') throw new StoreError(`${where}: only C order is supported`);
  if (zarray.filters && zarray.filters.length) throw new StoreError(`${where}: Zarr filters are not supported`);
  const size = { t: 1, c: 1, z: 1, y: 1, x: 1 };
  const chunk = { t: 1, c: 1, z: 1, y: 1, x: 1 };
  axes.forEach((a, i) => { size[a] = zarray.shape[i]; chunk[a] = zarray.chunks[i]; });
  const planes = chunk.t * chunk.c * chunk.z;
  if (planes > 1 && axes.slice(-2).join('') !== 'yx') {
    throw new StoreError(`${where}: chunks hold several planes (${zarray.chunks}) and y, x are not the last axes`);
  }
  // Position of a plane inside a chunk: C order over the non-yx axes, in the store's axis order.
  const planeStrides = {};
  let stride = 1;
  for (const a of [...axes].reverse()) if (a !== 'y' && a !== 'x') { planeStrides[a] = stride; stride *= chunk[a]; }
  return {
    planes,
    planeStrides,
    path: dataset.path,
    size,
    chunk,
    dtype,
    compressor: zarray.compressor || null,
    fill: zarray.fill_value || 0,
    separator: zarray.dimension_separator || '.',
    tilesX: Math.ceil(size.x / chunk.x),
    tilesY: Math.ceil(size.y / chunk.y),
    downsample: 1,
  };
}

/** URL of the chunk of `level` holding channel c of plane (t, z), tile (ty, tx). */
export function chunkUrl(source, level, t, c, z, ty, tx) {
  const lv = source.levels[level];
  const idx = { t: Math.floor(t / lv.chunk.t), c: Math.floor(c / lv.chunk.c), z: Math.floor(z / lv.chunk.z), y: ty, x: tx };
  const key = source.axes.map((a) => idx[a]).join(lv.separator);
  return withToken(`${source.url}/${lv.path}/${key}`, source.token);
}

/** Index of the (t, c, z) plane inside its chunk (0 when chunks hold one plane). */
export function planeInChunk(source, level, t, c, z) {
  const lv = source.levels[level];
  if (lv.planes === 1) return 0;
  const at = { t, c, z };
  let i = 0;
  for (const [a, s] of Object.entries(lv.planeStrides)) i += (at[a] % lv.chunk[a]) * s;
  return i;
}

async function fetchBytes(url, signal) {
  const response = await fetch(url, { signal });
  if (response.status === 404) return null;
  if (!response.ok) {
    const detail = await errorText(response);
    throw new StoreError(`Tile failed: HTTP ${response.status}${detail ? ` - ${detail}` : ''} (${url})`);
  }
  return response.arrayBuffer();
}

// Chunks holding several planes are wanted once per plane: one fetch serves them all. Not cancellable
// (another plane may still want it); each caller stops waiting when its own signal aborts.
const shared = new Map();
const SHARED_MAX = 64;

function abortable(promise, signal) {
  if (!signal) return promise;
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(new DOMException('aborted', 'AbortError'));
    if (signal.aborted) { onAbort(); return; }
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * Fetch one chunk's compressed bytes. Resolves to an ArrayBuffer (the caller's own, it may transfer
 * it), or null when the store leaves the chunk out (404: the reader uses the fill value). Rejects with
 * StoreError on any other failure and with an AbortError when `signal` aborts.
 */
export async function fetchChunk(source, level, t, c, z, ty, tx, signal) {
  const url = chunkUrl(source, level, t, c, z, ty, tx);
  if (source.levels[level].planes === 1) return fetchBytes(url, signal);
  let p = shared.get(url);
  if (!p) {
    p = fetchBytes(url, null);
    shared.set(url, p);
    p.catch(() => shared.delete(url));
    if (shared.size > SHARED_MAX) shared.delete(shared.keys().next().value);
  }
  const bytes = await abortable(p, signal);
  return bytes === null ? null : bytes.slice(0);
}
