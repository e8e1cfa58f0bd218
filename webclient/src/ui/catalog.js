// The catalog page: every image of a JSON list as a card (thumbnail, name, X x Y, Z, T, channels, dtype,
// size on disk, date ingested, private badge), with a filter box, sorting by name or date, and pages of
// PAGE_SIZE cards so that 2,000 images render as fast as 60. It only reads a JSON list, so the server's
// /api/images and a static site's catalog file (chromatile publish) use the same page.
import { h } from './dom.js';
import { withToken } from '../zarr.js';

export const PAGE_SIZE = 60;
// One collator for every comparison: localeCompare with options builds one per call (2,000 images
// sorted by name took over a second that way). Made on first use: the first collator of a page loads
// the browser's collation data (8-15 ms), which the viewer page, sharing this bundle, does not need.
/** @type {Intl.Collator | null} */
let collator = null;
const byName = () => (collator ??= new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' }));
const SORTS = {
  name: ['Name (A–Z)', (a, b) => byName().compare(a.name, b.name)],
  newest: ['Newest first', (a, b) => (b.ingested || '').localeCompare(a.ingested || '')],
  oldest: ['Oldest first', (a, b) => (a.ingested || '\uffff').localeCompare(b.ingested || '\uffff')],
};

/** "1.4 GB": bytes in decimal units, as disks are sold. */
export function formatBytes(n) {
  if (!Number.isFinite(n)) return '';
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
  return `${n >= 100 || i === 0 ? Math.round(n) : n.toFixed(1)} ${units[i]}`;
}

/** One catalog entry in the form the page shows; its URLs are relative to the list's `url`. */
function normalise(img, url, token) {
  const id = String(img.id);
  const shape = img.shape || {};
  const channels = Array.isArray(img.channels) ? img.channels.map((c) => (typeof c === 'string' ? c : c.label || '')) : [];
  const viewer = new URL(img.viewer_url || `view/${encodeURIComponent(id)}`, url).href;
  return {
    id,
    name: String(img.name || id),
    x: shape.x, y: shape.y, z: shape.z || 1, t: shape.t || 1,
    channels,
    dtype: img.dtype || '',
    size: img.size_bytes,
    ingested: img.ingested || '',
    private: Boolean(img.private),
    href: withToken(viewer, token),
    thumbnail: img.thumbnail_url ? withToken(new URL(img.thumbnail_url, url).href, token) : null,
    text: `${img.name || ''} ${id} ${channels.join(' ')}`.toLowerCase(),
  };
}

function card(e) {
  const dims = [e.x && e.y ? `${e.x} × ${e.y}` : null, `Z ${e.z}`, `T ${e.t}`, e.dtype].filter(Boolean).join(' · ');
  const when = e.ingested ? e.ingested.slice(0, 10) : '';
  const img = h('img', { src: e.thumbnail || undefined, alt: '', loading: 'lazy', width: 96, height: 96 });
  if (!e.thumbnail) img.style.visibility = 'hidden';
  img.addEventListener('error', () => { img.style.visibility = 'hidden'; }, { once: true });
  // One link per card, on the name; it stretches over the whole card (CSS), so the card is clickable.
  return h('li.ct-catalog-item', { dataset: { id: e.id } },
    img,
    h('div.ct-catalog-info', {},
      h('span.ct-catalog-title', {}, h('a.ct-catalog-name', { href: e.href, title: e.name }, e.name),
        e.private ? h('span.ct-badge', { title: 'Only readable with a token' }, 'private') : null),
      h('span.ct-catalog-dims', {}, dims),
      h('span.ct-catalog-channels', { title: e.channels.join(', ') },
        `${e.channels.length} channel${e.channels.length === 1 ? '' : 's'}${e.channels.length ? ': ' + e.channels.join(', ') : ''}`),
      h('span.ct-catalog-disk', {}, [formatBytes(e.size), when ? `ingested ${when}` : ''].filter(Boolean).join(' · '))));
}

/**
 * Show the catalog of the JSON list at `url` (an array or {images: [...]}, entries as /api/images
 * gives them; their URLs relative to the list) in `element`. `token` is an access token added to the
 * list's request and to every link. Returns the page's controller (`ready`, `firstRenderMs`, ...).
 */
export function showCatalog(element, { url, token = null, title = 'chromatile' } = {}) {
  const t0 = performance.now();
  const filter = h('input.ct-filter', { type: 'search', placeholder: 'Filter by name or channel', 'aria-label': 'Filter images' });
  const sort = h('select.ct-catalog-sort', { 'aria-label': 'Sort images' },
    Object.entries(SORTS).map(([k, [label]]) => h('option', { value: k }, label)));
  const count = h('span.ct-catalog-count', { 'aria-live': 'polite' });
  const list = h('ul.ct-catalog-list');
  const prev = h('button.ct-page-prev', { type: 'button' }, '← Previous');
  const next = h('button.ct-page-next', { type: 'button' }, 'Next →');
  const pageText = h('span.ct-page-text');
  const pager = h('nav.ct-pager', { 'aria-label': 'Pages' }, prev, pageText, next);
  const box = h('div.ct-catalog', {}, h('h1', {}, title),
    h('div.ct-catalog-bar', {}, filter, h('label', {}, 'Sort ', sort), count), list, pager);
  element.append(box);

  const params = new URLSearchParams(location.search);
  if (SORTS[params.get('sort')]) sort.value = params.get('sort');
  filter.value = params.get('q') || '';
  let all = [];
  let shown = [];
  let page = Math.max(0, Number(params.get('page') || 1) - 1) || 0;
  const controller = { firstRenderMs: null, fetchMs: null, get total() { return all.length; }, get matching() { return shown.length; } };

  const render = () => {
    const pages = Math.max(1, Math.ceil(shown.length / PAGE_SIZE));
    page = Math.min(page, pages - 1);
    list.replaceChildren(...shown.slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE).map(card));
    if (!all.length) list.append(h('li.ct-empty', {}, 'No images yet: ingest one with `chromatile ingest`.'));
    else if (!shown.length) list.append(h('li.ct-empty', {}, 'No image matches the filter.'));
    count.textContent = shown.length === all.length ? `${all.length} image${all.length === 1 ? '' : 's'}`
      : `${shown.length} of ${all.length} images`;
    pager.hidden = pages < 2;
    pageText.textContent = `page ${page + 1} of ${pages}`;
    prev.disabled = page === 0;
    next.disabled = page >= pages - 1;
  };
  const remember = () => {
    const p = new URLSearchParams(location.search);
    for (const [k, v] of [['q', filter.value], ['sort', sort.value === 'name' ? '' : sort.value], ['page', page ? String(page + 1) : '']]) {
      if (v) p.set(k, v); else p.delete(k);
    }
    const q = p.toString();
    history.replaceState(null, '', `${location.pathname}${q ? `?${q}` : ''}`);
  };
  const update = () => {
    const terms = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
    shown = all.filter((e) => terms.every((term) => e.text.includes(term)));
    shown.sort(SORTS[sort.value][1]);
    render();
  };
  filter.addEventListener('input', () => { page = 0; update(); remember(); });
  sort.addEventListener('change', () => { page = 0; update(); remember(); });
  prev.addEventListener('click', () => { page--; render(); remember(); box.scrollIntoView(); });
  next.addEventListener('click', () => { page++; render(); remember(); box.scrollIntoView(); });

  url = new URL(url, location.href).href;
  controller.ready = fetch(withToken(url, token), { headers: { Accept: 'application/json' } })
    .then(async (r) => {
      if (!r.ok) throw new Error(`HTTP ${r.status}`);
      const data = await r.json();
      controller.fetchMs = performance.now() - t0;
      const images = Array.isArray(data) ? data : data.images || [];
      all = images.map((img) => normalise(img, url, token));
      update();
      controller.firstRenderMs = performance.now() - t0;
      box.dataset.ready = 'true';
      return controller;
    })
    .catch((err) => {
      box.append(h('div.ct-message.ct-message-store', { role: 'alert', dataset: { kind: 'store' } },
        `Cannot load the image list from ${url}: ${err.message}`));
      throw err;
    });
  controller.ready.catch(() => {});
  return controller;
}
