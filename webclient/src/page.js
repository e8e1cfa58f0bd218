// The built-in page: /view/<id>, /view?url=<OME-Zarr URL>, or the catalog at /.
// A static site written by `chromatile publish` uses the same page with an inline config
// (<script type="application/json" id="chromatile-site">) naming its catalog and store URLs.
import { createViewer } from './api.js';
import { decodeState, bindUrlState } from './url-state.js';
import { withToken } from './zarr.js';
import { h } from './ui/dom.js';

function showCatalog(element, catalogUrl, token) {
  const list = h('ul.ct-catalog-list');
  const box = h('div.ct-catalog', {}, h('h1', {}, 'chromatile'), h('p', {}, 'Images on this server:'), list);
  element.append(box);
  fetch(withToken(catalogUrl, token))
    .then(async (r) => {
      if (!r.ok) throw new Error(`HTTP ${r.status}`);
      const data = await r.json();
      const images = Array.isArray(data) ? data : data.images || [];
      if (!images.length) list.append(h('li', {}, 'No images yet: ingest one with `chromatile ingest`.'));
      for (const img of images) {
        // the entry's URLs, relative to the list (the server's are absolute paths)
        const href = new URL(img.viewer_url, catalogUrl).href + (token ? `?token=${encodeURIComponent(token)}` : '');
        const thumb = img.thumbnail_url ? withToken(new URL(img.thumbnail_url, catalogUrl).href, token) : null;
        list.append(h('li.ct-catalog-item', {}, h('a', { href },
          thumb ? h('img', { src: thumb, alt: '', loading: 'lazy' }) : null,
          h('span', {}, img.name || img.id))));
      }
    })
    .catch((err) => box.append(h('div.ct-message.ct-message-store', { role: 'alert', dataset: { kind: 'store' } },
      `Cannot load the image list from ${catalogUrl}: ${err.message}`)));
}

/** The inline config of a published static page, or null on the server's page. */
function siteConfig() {
  const el = document.getElementById('chromatile-site');
  return el ? JSON.parse(el.textContent) : null;
}

/** Start the page for the current location; returns the viewer (also window.chromatileViewer) or null. */
export function startPage({ base = '', element = document.body } = {}) {
  const params = new URLSearchParams(location.search);
  const token = params.get('token');
  const site = siteConfig();
  const rel = location.pathname.slice(base.length);
  const m = rel.match(/^\/view\/([^/]+)\/?$/);
  let source = null, adminUrl = null;
  if (site) {
    if (!site.source) { showCatalog(element, new URL(site.catalog, location.href).href, null); return null; }
    source = new URL(site.source, location.href).href;
  } else if (m) {
    const id = decodeURIComponent(m[1]);
    source = `${location.origin}${base}/data/${encodeURIComponent(id)}.ome.zarr`;
    adminUrl = `${base}/api/images/${encodeURIComponent(id)}/defaults`;
  } else if (params.get('url')) {
    source = new URL(params.get('url'), location.href).href;
  }
  if (!source) { showCatalog(element, `${location.origin}${base}/api/images`, token); return null; }
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
