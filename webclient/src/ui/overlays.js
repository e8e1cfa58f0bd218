// Things drawn over the image: pixel readout, scale bar, minimap.
import { h } from './dom.js';

const UNITS = { micrometer: 'µm', nanometer: 'nm', millimeter: 'mm', meter: 'm', centimeter: 'cm' };

/** A round length (1, 2 or 5 x 10^n) close to `target`. */
export function niceLength(target) {
  const p = Math.pow(10, Math.floor(Math.log10(target)));
  for (const m of [5, 2, 1]) if (m * p <= target) return m * p;
  return p;
}

export function buildReadout(viewer) {
  const el = h('div.ct-readout', { 'aria-live': 'off' });
  let pending = null;
  let scheduled = false;
  viewer.on('pointer', (p) => {
    pending = p;
    // One readout per frame however many pointer events arrive: valuesAt reads texels back from the GPU.
    if (scheduled) return;
    scheduled = true;
    requestAnimationFrame(() => {
      scheduled = false;
      if (!pending) { el.textContent = ''; return; }
      const src = viewer.source;
      const [x, y] = pending.image.map(Math.floor);
      const values = viewer.valuesAt(x, y);
      if (!values) { el.textContent = ''; return; }
      const unit = UNITS[src.unit] || src.unit || 'px';
      const phys = src.unit ? ` (${(x * src.pixelSize).toFixed(2)}, ${(y * src.pixelSize).toFixed(2)} ${unit})` : '';
      const parts = values.map((v, c) => `${src.channels[c].label}: ${v ? v.value + (v.level ? ` (level ${v.level})` : '') : '…'}`);
      el.textContent = `x ${x}, y ${y}${phys} · z ${viewer.state.z} · ${parts.join(' · ')}`;
    });
  });
  return el;
}

export function buildScaleBar(viewer) {
  const bar = h('div.ct-scalebar-bar');
  const label = h('div.ct-scalebar-label');
  const el = h('div.ct-scalebar', {}, bar, label);
  const update = () => {
    const src = viewer.source, st = viewer.state;
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

export function buildMinimap(viewer) {
  const canvas = h('canvas.ct-minimap', { width: 140, height: 140, title: 'Click to move the view' });
  let thumb = null;
  const draw = () => {
    const src = viewer.source, st = viewer.state;
    if (!src || !st) return;
    const s = Math.min(canvas.width / src.width, canvas.height / src.height);
    const w = src.width * s, hgt = src.height * s;
    const g = canvas.getContext('2d');
    g.clearRect(0, 0, canvas.width, canvas.height);
    g.fillStyle = 'rgba(0,0,0,0.6)';
    g.fillRect(0, 0, w, hgt);
    if (thumb) g.drawImage(thumb, 0, 0, w, hgt);
    g.strokeStyle = '#888';
    g.strokeRect(0.5, 0.5, w - 1, hgt - 1);
    const hw = viewer.cssWidth / 2 / st.view.zoom, hh = viewer.cssHeight / 2 / st.view.zoom;
    g.strokeStyle = '#ffdd00';
    g.lineWidth = 2;
    g.strokeRect((st.view.center[0] - hw) * s, (st.view.center[1] - hh) * s, 2 * hw * s, 2 * hh * s);
  };
  canvas.addEventListener('pointerdown', (e) => {
    e.stopPropagation();
    const src = viewer.source;
    const s = Math.min(canvas.width / src.width, canvas.height / src.height);
    const r = canvas.getBoundingClientRect();
    viewer.setView({ center: [(e.clientX - r.left) / s, (e.clientY - r.top) / s] });
  });
  viewer.on('open', (src) => {
    const name = src.attrs.chromatile && src.attrs.chromatile.thumbnail;
    if (name) {
      const img = new Image();
      img.crossOrigin = 'anonymous';
      img.onload = () => { thumb = img; draw(); };
      img.src = `${src.url}/${name}${src.token ? `?token=${encodeURIComponent(src.token)}` : ''}`;
    }
    draw();
  });
  viewer.on('view', draw);
  return canvas;
}
