// The built-in page: /view/<id>, /view?url=<OME-Zarr URL>, or the catalog at /.
import { createViewer } from './api.js';
import { decodeState, bindUrlState } from './url-state.js';
import { withToken } from './zarr.js';
import { h } from './ui/dom.js';

function showCatalog(element, base, token) {
  const list = h('ul.ct-catalog-list');
  const box = h('div.ct-catalog', {}, h('h1', {}, 'chromatile'), h('p', {}, 'Images on this server:'), list);
  element.append(box);
  fetch(withToken(`${base}/api/images`, token))
    .then(async (r) => {
      if (!r.ok) throw new Error(`HTTP ${r.status}`);
      const data = await r.json();
      const images = Array.isArray(data) ? data : data.images || [];
      if (!images.length) list.append(h('li', {}, 'No images yet: ingest one with `chromatile ingest`.'));
      for (const img of images) {
        const id = img.id;
        const href = `${base}/view/${encodeURIComponent(id)}${token ? `?token=${encodeURIComponent(token)}` : ''}`;
        list.append(h('li.ct-catalog-item', {}, h('a', { href },
          h('img', { src: withToken(`${base}/api/images/${encodeURIComponent(id)}/thumbnail.png`, token), alt: '', loading: 'lazy' }),
          h('span', {}, img.name || id))));
      }
    })
    .catch((err) => box.append(h('div.ct-message.ct-message-store', { role: 'alert', dataset: { kind: 'store' } },
      `Cannot load the image list from ${base}/api/images: ${err.message}`)));
}

/** Start the page for the current location; returns the viewer (also window.chromatileViewer) or null. */
export function startPage({ base = '', element = document.body } = {}) {
  const params = new URLSearchParams(location.search);
  const token = params.get('token');
  const rel = location.pathname.slice(base.length);
  const m = rel.match(/^\/view\/([^/]+)\/?$/);
  let source = null, adminUrl = null;
  if (m) {
    const id = decodeURIComponent(m[1]);
    source = `${location.origin}${base}/data/${encodeURIComponent(id)}.ome.zarr`;
    adminUrl = `${base}/api/images/${encodeURIComponent(id)}/defaults`;
  } else if (params.get('url')) {
    source = new URL(params.get('url'), location.href).href;
  }
  if (!source) { showCatalog(element, base, token); return null; }
  // A container (plate, bioformats2raw root) opens the image named by ?image= (default its first);
  // picking another reloads the page on it, a fresh view state since its channels may differ.
  const onPickImage = (path) => {
    const next = new URL(location.href);
    next.searchParams.set('image', path);
    next.hash = '';
    location.assign(next.href);
  };
  const viewer = createViewer(element, { source, token, adminUrl, image: params.get('image'), onPickImage,
    initialState: decodeState(location.hash) });
  window.chromatileViewer = viewer;
  viewer.ready.then(() => {
    document.title = `${viewer.source.name} · chromatile`;
    bindUrlState(viewer._viewer);
  }).catch(() => {});
  return viewer;
}
