// The built-in page: /view/<id>, /view?url=<OME-Zarr URL>, or the catalog at /.
// A static site written by `chromatile publish` uses the same page with an inline config
// (<script type="application/json" id="chromatile-site">) naming its catalog and store URLs.
import { createViewer } from './api.js';
import { decodeState, bindUrlState } from './url-state.js';
import { showCatalog } from './ui/catalog.js';
import { cleanGroups } from './ui/groups.js';
import { mark } from './trace.js';

/** The inline config of a published static page, or null on the server's page. */
function siteConfig() {
  const el = document.getElementById('chromatile-site');
  return el ? JSON.parse(el.textContent) : null;
}

/** Tell the reader which parts of the link's state were not used (the rest was). */
function reportIgnored(api, decoded) {
  const ignored = [...decoded.ignored];
  const sizeC = api.source.sizeC;
  const n = decoded.channels ? decoded.channels.length : 0;
  if (n > sizeC) ignored.push(`${n} channel entries for an image of ${sizeC} channels: ${n - sizeC > 1 ? `the last ${n - sizeC} were` : 'the last one was'} not used`);
  if (decoded.groups && api.groups) api.groups.replace(cleanGroups(decoded.groups, sizeC, ignored));
  if (ignored.length) api._viewer.showMessage('state', `Part of the link was ignored: ${ignored.join('; ')}.`);
}

/**
 * Start the page for the current location; returns the viewer (also window.chromatileViewer), or null
 * for the catalog (its controller is window.chromatileCatalog). The catalog reads the server's
 * /api/images, or on a published static site the list its inline config names.
 */
export function startPage({ base = '', element = document.body } = {}) {
  mark('page'); // the bundle is loaded and running
  const params = new URLSearchParams(location.search);
  const token = params.get('token');
  const site = siteConfig();
  const rel = location.pathname.slice(base.length);
  const m = rel.match(/^\/view\/([^/]+)\/?$/);
  let source = null, adminUrl = null;
  if (site) {
    if (!site.source) {
      window.chromatileCatalog = showCatalog(element, { url: new URL(site.catalog, location.href).href });
      return null;
    }
    source = new URL(site.source, location.href).href;
  } else if (m) {
    const id = decodeURIComponent(m[1]);
    source = `${location.origin}${base}/data/${encodeURIComponent(id)}.ome.zarr`;
    adminUrl = `${base}/api/images/${encodeURIComponent(id)}/defaults`;
  } else if (params.get('url')) {
    source = new URL(params.get('url'), location.href).href;
  }
  if (!source) {
    window.chromatileCatalog = showCatalog(element, { url: `${location.origin}${base}/api/images`, token });
    return null;
  }
  // A container (plate, bioformats2raw root) opens the image named by ?image= (default its first);
  // picking another reloads the page on it, a fresh view state since its channels may differ.
  const onPickImage = (path) => {
    const next = new URL(location.href);
    next.searchParams.set('image', path);
    next.hash = '';
    location.assign(next.href);
  };
  const decoded = decodeState(location.hash);
  const initialState = { ...decoded };
  delete initialState.ignored; // reported below, once the image is open
  delete initialState.groups;
  const viewer = createViewer(element, { source, token, adminUrl, image: params.get('image'), onPickImage, initialState,
    allowUserShaders: true });
  window.chromatileViewer = viewer;
  viewer.ready.then(() => {
    document.title = `${viewer.source.name} · chromatile`;
    reportIgnored(viewer, decoded);
    bindUrlState(viewer._viewer, { groups: viewer.groups });
  }).catch(() => {});
  return viewer;
}
