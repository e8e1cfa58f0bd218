// Things drawn over the image: pixel readout, scale bar, minimap.
import { h } from './dom.js';

const UNITS = { micrometer: 'µm', nanometer: 'nm', millimeter: 'mm', meter: 'm', centimeter: 'cm' };

/** A round length (1, 2 or 5 x 10^n) close to `target`. */
export function niceLength(target) {
  const p = Math.pow(10, Math.floor(Math.log10(target)));
  for (const m of [5, 2, 1]) if (m * p <= target) return m * p;
  return p;
}

// Rows per column of the readout table: 40 visible channels make 5 short columns, not a 600-character line.
const READOUT_ROWS = 8;

/** Position line and a compact table of the visible channels' values under the pointer. */
export function buildReadout(viewer) {
  const pos = h('div.ct-readout-pos');
  const table = h('table.ct-readout-table');
  const el = h('div.ct-readout', { 'aria-live': 'off' }, pos, table);
  let pending = null;
  let scheduled = false;
  const clear = () => { pos.textContent = ''; table.replaceChildren(); };
  viewer.on('pointer', (p) => {
    pending = p;
    // One readout per frame however many pointer events arrive: valuesAt reads texels back from the GPU.
    if (scheduled) return;
    scheduled = true;
    requestAnimationFrame(() => {
      scheduled = false;
      if (!pending) { clear(); return; }
      const src = viewer.source, st = viewer.getState();
      const [x, y] = pending.image.map(Math.floor);
      const values = viewer.valuesAt(x, y);
      if (!values || !st) { clear(); return; }
      const unit = UNITS[src.unit] || src.unit || 'px';
      const phys = src.unit ? ` (${(x * src.pixelSize).toFixed(2)}, ${(y * src.pixelSize).toFixed(2)} ${unit})` : '';
      const planes = [`z ${st.z + 1} / ${src.sizeZ}`];
      if (src.sizeT > 1) planes.push(`t ${st.t + 1} / ${src.sizeT}`);
      pos.textContent = `x ${x}, y ${y}${phys} · ${planes.join(' · ')}`;
      const shown = [];
      st.channels.forEach((ch, c) => { if (ch.visible) shown.push(c); });
      const rows = Math.min(READOUT_ROWS, shown.length);
      const trs = [];
      for (let r = 0; r < rows; r++) {
        const cells = [];
        for (let k = r; k < shown.length; k += rows) {
          const c = shown[k], v = values[c];
          cells.push(h('td.ct-readout-label', { title: src.channels[c].label },
            h('span.ct-readout-swatch', { style: `background:${st.channels[c].color}` }), src.channels[c].label),
          h('td.ct-readout-value', { dataset: { channel: String(c) } }, v ? `${v.value}${v.level ? ` (L${v.level})` : ''}` : '…'));
        }
        trs.push(h('tr', {}, cells));
      }
      table.replaceChildren(...trs);
    });
  });
  return el;
}

export function buildScaleBar(viewer) {
  const bar = h('div.ct-scalebar-bar');
  const label = h('div.ct-scalebar-label');
  const el = h('div.ct-scalebar', {}, bar, label);
  const update = () => {
    const src = viewer.source, st = viewer.getState();
    if (!src || !st) return;
    const perCss = src.pixelSize / st.view.zoom; // physical units per CSS pixel
    const len = niceLength(perCss * 120);
    bar.style.width = `${len / perCss}px`;
    const unit = src.unit ? (UNITS[src.unit] || src.unit) : 'px';
    label.textContent = `${Number(len.toPrecision(3))} ${unit}`;
  };
  viewer.on('view', update);
  viewer.on('open', update);
  return el;
}

/**
 * The whole plane with the view's outline; click to move there. The picture is the store's thumbnail
 * when it has one, else the viewer's own frame whenever a complete frame shows the whole plane (the
 * fitted view at open draws from the coarse levels that load first).
 */
export function buildMinimap(viewer) {
  const canvas = h('canvas.ct-minimap', { width: 140, height: 140, title: 'Click to move the view' });
  let thumb = null;
  let storeThumb = false;
  let snapKey = '';
  const fitScale = () => {
    const src = viewer.source;
    return Math.min(canvas.width / src.width, canvas.height / src.height);
  };
  const draw = () => {
    const src = viewer.source, st = viewer.getState();
    if (!src || !st) return;
    const s = fitScale();
    const w = src.width * s, hgt = src.height * s;
    const g = canvas.getContext('2d');
    g.clearRect(0, 0, canvas.width, canvas.height);
    g.fillStyle = 'rgba(0,0,0,0.6)';
    g.fillRect(0, 0, w, hgt);
    if (thumb) g.drawImage(thumb, 0, 0, w, hgt);
    g.strokeStyle = '#888';
    g.strokeRect(0.5, 0.5, w - 1, hgt - 1);
    const stage = viewer.stage;
    const hw = stage.clientWidth / 2 / st.view.zoom, hh = stage.clientHeight / 2 / st.view.zoom;
    g.strokeStyle = '#ffdd00';
    g.lineWidth = 2;
    g.strokeRect((st.view.center[0] - hw) * s, (st.view.center[1] - hh) * s, 2 * hw * s, 2 * hh * s);
  };
  // A store without our thumbnail: keep a copy of a complete frame that shows the whole plane.
  const snapshot = () => {
    const src = viewer.source, st = viewer.getState();
    if (storeThumb || !src || !st) return;
    const stage = viewer.stage, main = viewer.canvas;
    const cw = stage.clientWidth, ch = stage.clientHeight, z = st.view.zoom;
    const left = st.view.center[0] - cw / 2 / z, top = st.view.center[1] - ch / 2 / z;
    const slack = 0.5; // level-0 pixels: a fitted view touches the plane's edges up to rounding
    if (left > slack || top > slack || left + cw / z < src.width - slack || top + ch / z < src.height - slack) return;
    const key = JSON.stringify([st.view, st.z, st.t, st.blend, st.channels, main.width, main.height]);
    if (key === snapKey) return;
    snapKey = key;
    const k = main.width / cw; // device pixels per CSS pixel
    const s = fitScale();
    const copy = thumb instanceof HTMLCanvasElement ? thumb : document.createElement('canvas');
    copy.width = Math.max(1, Math.round(src.width * s));
    copy.height = Math.max(1, Math.round(src.height * s));
    copy.getContext('2d').drawImage(main, -left * z * k, -top * z * k, src.width * z * k, src.height * z * k, 0, 0, copy.width, copy.height);
    thumb = copy;
    canvas.dataset.thumbnail = 'frame';
    draw();
  };
  canvas.addEventListener('pointerdown', (e) => {
    e.stopPropagation();
    const r = canvas.getBoundingClientRect();
    const s = fitScale() * canvas.clientWidth / canvas.width; // the minimap may be drawn smaller than its pixels
    viewer.setView({ center: [(e.clientX - r.left) / s, (e.clientY - r.top) / s] });
  });
  viewer.on('open', (src) => {
    const name = src.attrs && src.attrs.chromatile && src.attrs.chromatile.thumbnail;
    storeThumb = Boolean(name);
    // Once the first view is complete: a page's first 2D drawing waits for the GPU process, which held
    // the main thread (and with it the chunks' responses) 40-120 ms in the middle of the first view on
    // a software GL (bench/viewer), and the thumbnail's request would compete with the chunks.
    viewer.whenIdle().then(() => {
      if (name) {
        const img = new Image();
        img.crossOrigin = 'anonymous';
        img.onload = () => { thumb = img; canvas.dataset.thumbnail = 'store'; draw(); };
        img.src = `${src.url}/${name}${src.token ? `?token=${encodeURIComponent(src.token)}` : ''}`;
      }
      draw();
    }, () => {});
  });
  viewer.on('view', draw);
  viewer.on('idle', snapshot);
  return canvas;
}
