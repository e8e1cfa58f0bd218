// An OME-Zarr image (multiscales, 0.4 on Zarr v2 or 0.5 on Zarr v3) as the viewer's ImageSource.
import { StoreError, readJson } from './http.js';
import { arrayV2 } from './v2.js';
import { arrayV3 } from './v3.js';
import { channelSettings } from './defaults.js';

const AXES = ['t', 'c', 'z', 'y', 'x'];

async function readArray(url, format, token, absent) {
  const file = format === 3 ? 'zarr.json' : '.zarray';
  const r = await readJson(`${url}/${file}`, token);
  if (r.status !== 'ok') throw new StoreError(`Cannot read array metadata ${url}/${file}: ${r.status === 'missing' ? `HTTP ${r.code}` : 'not JSON'}`);
  return format === 3 ? arrayV3(url, r.json, token) : arrayV2(url, r.json, token, absent);
}

function scaleOf(dataset) {
  const s = (dataset.coordinateTransformations || []).find((t) => t.type === 'scale');
  return s ? s.scale : null;
}

function clampInt(v, lo, hi) { return Math.max(lo, Math.min(hi, Math.round(v))); }

/** One resolution level: the array, its size and chunk per t/c/z/y/x axis, and where a plane sits in a chunk. */
function describeLevel(array, dataset, axes) {
  const where = `${array.url} (${array.format === 3 ? 'zarr.json' : '.zarray'})`;
  if (array.shape.length !== axes.length) throw new StoreError(`${where}: ${array.shape.length} dimensions for ${axes.length} axes`);
  const size = { t: 1, c: 1, z: 1, y: 1, x: 1 };
  const chunk = { t: 1, c: 1, z: 1, y: 1, x: 1 };
  axes.forEach((a, i) => { size[a] = array.shape[i]; chunk[a] = array.chunkShape[i]; });
  const planes = chunk.t * chunk.c * chunk.z;
  if (planes > 1 && axes.slice(-2).join('') !== 'yx') {
    throw new StoreError(`${where}: chunks hold several planes (${array.chunkShape}) and y, x are not the last axes`);
  }
  // Position of a plane inside a chunk: C order over the non-yx axes, in the store's axis order.
  const planeStrides = {};
  let stride = 1;
  for (const a of [...axes].reverse()) if (a !== 'y' && a !== 'x') { planeStrides[a] = stride; stride *= chunk[a]; }
  return {
    array,
    planes,
    planeStrides,
    path: dataset.path,
    size,
    chunk,
    dtype: array.dtype,
    compressor: array.codec, // the decode spec handed to the workers (codecs.js)
    fill: array.fill,
    tilesX: Math.ceil(size.x / chunk.x),
    tilesY: Math.ceil(size.y / chunk.y),
    downsample: 1,
  };
}

/** The ImageSource of the multiscales image at `base`, whose node (store/node.js) is `node`. */
export async function openMultiscales(base, node, token) {
  const attrs = node.attrs;
  const ms = attrs.multiscales && attrs.multiscales[0];
  if (!ms || !Array.isArray(ms.datasets) || ms.datasets.length === 0) {
    throw new StoreError(`${base}: the multiscales metadata lists no datasets`);
  }
  const axes = (ms.axes || AXES.map((name) => ({ name })))
    .map((a) => (typeof a === 'string' ? a : a.name).toLowerCase());
  for (const a of axes) {
    if (!AXES.includes(a)) throw new StoreError(`${base}: unsupported axis "${a}" (chromatile shows t, c, z, y, x)`);
  }
  // Our own 0.4 stores list the chunks they leave out per level (0.5 shard indexes say it themselves).
  const absent = (attrs.chromatile && attrs.chromatile.absent) || [];
  const arrays = await Promise.all(ms.datasets.map((d, i) => readArray(`${base}/${d.path}`, node.format, token,
    Array.isArray(absent) ? absent[i] : null)));
  const levels = ms.datasets.map((d, i) => describeLevel(arrays[i], d, axes));
  const l0 = levels[0];
  const scale0 = scaleOf(ms.datasets[0]);
  const xi = axes.indexOf('x');
  levels.forEach((lv, i) => {
    const scale = scaleOf(ms.datasets[i]);
    lv.downsample = scale && scale0 ? scale[xi] / scale0[xi] : l0.size.x / lv.size.x;
  });
  const xAxis = ms.axes && ms.axes[xi];
  const omero = attrs.omero || {};
  const rdefs = omero.rdefs || {};
  return {
    url: base,
    token,
    format: node.format === 3 ? '0.5' : '0.4',
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
    pixelSize: scale0 ? scale0[xi] : 1,
    unit: (xAxis && xAxis.unit) || null,
    channels: channelSettings(l0.size.c, l0.dtype.name, omero, node.extra),
    // The OME attributes, with our own block where 0.4 keeps it (0.5 keeps it beside `ome`).
    attrs: node.extra && !attrs.chromatile ? { ...attrs, chromatile: node.extra } : attrs,
    container: null,
  };
}
