// What is at a URL: a Zarr v3 node (zarr.json) or a Zarr v2 group/array (.zattrs, .zarray), read in
// parallel so a 0.5 store costs no extra round trip.
import { StoreError, readJson } from './http.js';

/**
 * The node at `url`: {format: 2 | 3, kind: 'group' | 'array', attrs, meta}, where attrs are the OME
 * attributes (0.5: `attributes.ome`; 0.4: `.zattrs` itself) and `extra` our own `chromatile` block.
 * Throws StoreError, in our words, when nothing Zarr is there.
 */
export async function readNode(url, token) {
  const [r3, r2] = await Promise.allSettled([readJson(`${url}/zarr.json`, token), readJson(`${url}/.zattrs`, token)]);
  const v3 = r3.status === 'fulfilled' ? r3.value : { status: 'failed' };
  const v2 = r2.status === 'fulfilled' ? r2.value : { status: 'failed' };
  if (v3.status === 'ok') {
    const meta = v3.json || {};
    if (meta.zarr_format !== 3) throw new StoreError(`${url}/zarr.json is not Zarr v3 metadata (zarr_format ${meta.zarr_format})`);
    const attributes = meta.attributes || {};
    // OME-Zarr 0.5 keeps its attributes under "ome"; some early v3 writers put them at the top.
    const ome = attributes.ome || attributes;
    return { format: 3, kind: meta.node_type, attrs: ome, extra: attributes.chromatile || ome.chromatile || {}, meta };
  }
  if (v2.status === 'ok') {
    const attrs = v2.json || {};
    return { format: 2, kind: 'group', attrs, extra: attrs.chromatile || {}, meta: null };
  }
  // A server error (withdrawn, private, down) says more than the other file's 404: the 0.4 one first.
  if (r2.status === 'rejected') throw r2.reason;
  if (r3.status === 'rejected') throw r3.reason;
  if (v3.status === 'html' || v2.status === 'html') {
    throw new StoreError(`${url} answers with a web page, not Zarr metadata: chromatile opens OME-Zarr images (0.4 and 0.5), bioformats2raw containers and HCS plates by the URL of their folder.`);
  }
  const arr = await readJson(`${url}/.zarray`, token).catch(() => ({ status: 'missing' }));
  if (arr.status === 'ok') return { format: 2, kind: 'array', attrs: {}, extra: {}, meta: arr.json };
  throw new StoreError(`Nothing to open at ${url}: neither zarr.json (OME-Zarr 0.5) nor .zattrs (OME-Zarr 0.4) is there (HTTP ${v2.code || 404}). chromatile opens OME-Zarr images, bioformats2raw containers and HCS plates by the URL of their folder.`);
}

/** A one-line account of a node that is not something we open, and what we do open. */
export function notAnImage(url, node) {
  const a = node.attrs || {};
  const supported = 'chromatile opens OME-Zarr images (multiscales), bioformats2raw containers and HCS plates';
  if (node.kind === 'array') return `${url} is a single Zarr array, not an OME-Zarr image: ${supported}; open the group that holds it.`;
  if (a.labels && !a.multiscales) return `${url} holds only image labels (segmentations), not an image: ${supported}; open the image folder above it.`;
  return `${url} is a Zarr group without OME-Zarr image metadata (no multiscales, plate or bioformats2raw.layout): ${supported}.`;
}
