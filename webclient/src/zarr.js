// The viewer's store layer, one interface over OME-Zarr 0.4 (Zarr v2) and 0.5 (Zarr v3, sharded or
// not), read over HTTP:
//   openImage(url, {token, image})       -> ImageSource: size, levels, channels, and `container`
//                                            when url is a bioformats2raw root, a plate or a well
//   fetchChunk(source, level, t, c, z, ty, tx, signal) -> the chunk's encoded bytes, or null (fill)
//   planeInChunk(source, level, t, c, z) -> which plane of a multi-plane chunk is wanted
// The readers behind it live in store/: node.js (what is at a URL), image.js (multiscales), v2.js and
// v3.js (arrays; shards are a detail of v3.js), containers.js, defaults.js (channel defaults).
// Decoding happens in the workers from each level's decode spec (`compressor`, see codecs.js).
import { StoreError, withToken } from './store/http.js';
import { readNode, notAnImage } from './store/node.js';
import { openMultiscales } from './store/image.js';
import { containerKind, resolveContainer } from './store/containers.js';
import { abortable } from './store/v3.js';

export { StoreError, withToken };

/**
 * Open the image at `url` (no trailing slash needed): an OME-Zarr image, or a container of images, of
 * which `image` (a path under url) or the first is opened. Resolves to an ImageSource.
 */
export async function openImage(url, { token = null, image = null } = {}) {
  const base = url.replace(/\/+$/, '');
  const node = await readNode(base, token);
  if (node.kind === 'group' && node.attrs.multiscales) {
    if (image) throw new StoreError(`${base} is a single image; "image=${image}" applies to containers (plates, bioformats2raw)`);
    return openMultiscales(base, node, token);
  }
  if (node.kind !== 'group' || !containerKind(node.attrs)) throw new StoreError(notAnImage(base, node));
  const { path, container } = await resolveContainer(base, node, token, image);
  const imageUrl = `${base}/${path}`;
  const inner = await readNode(imageUrl, token);
  if (!inner.attrs.multiscales) throw new StoreError(notAnImage(imageUrl, inner));
  const source = await openMultiscales(imageUrl, inner, token);
  source.container = container;
  return source;
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

function chunkIndex(source, lv, t, c, z, ty, tx) {
  const idx = { t: Math.floor(t / lv.chunk.t), c: Math.floor(c / lv.chunk.c), z: Math.floor(z / lv.chunk.z), y: ty, x: tx };
  return source.axes.map((a) => idx[a]);
}

// Chunks holding several planes are wanted once per plane: one fetch serves them all. Not cancellable
// (another plane may still want it); each caller stops waiting when its own signal aborts.
const shared = new Map();
const SHARED_MAX = 64;

/**
 * Fetch one chunk's encoded bytes. Resolves to an ArrayBuffer (the caller's own, it may transfer it),
 * or null when the store leaves the chunk out (the reader uses the fill value). Rejects with
 * StoreError on any other failure and with an AbortError when `signal` aborts.
 */
export async function fetchChunk(source, level, t, c, z, ty, tx, signal) {
  const lv = source.levels[level];
  const idx = chunkIndex(source, lv, t, c, z, ty, tx);
  if (lv.planes === 1) return lv.array.chunk(idx, signal);
  const key = `${lv.array.url}|${idx.join(',')}`;
  let p = shared.get(key);
  if (!p) {
    p = lv.array.chunk(idx, null);
    shared.set(key, p);
    p.catch(() => shared.delete(key));
    if (shared.size > SHARED_MAX) shared.delete(shared.keys().next().value);
  }
  const bytes = await abortable(p, signal);
  return bytes === null ? null : bytes.slice(0);
}
