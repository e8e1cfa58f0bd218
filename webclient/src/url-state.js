// Shareable state in the URL hash: #x=..&y=..&zoom=..&z=..&t=..&blend=..&ch=<channel>;<channel>...
// where each channel is visible,rrggbb,lo,hi,gamma,invert,colormap (e.g. 1,ff0000,100,2000,1,0,color).

import { COLORMAPS, BLENDS } from './shader-builder.js';

const round = (v, n = 3) => Number(Number(v).toFixed(n));

/** The hash string for a viewer state. */
export function encodeState(state) {
  const p = new URLSearchParams();
  p.set('x', round(state.view.center[0], 2));
  p.set('y', round(state.view.center[1], 2));
  p.set('zoom', round(state.view.zoom, 6));
  p.set('z', state.z);
  p.set('t', state.t);
  p.set('blend', state.blend);
  p.set('ch', state.channels.map((c) => [c.visible ? 1 : 0, c.color.slice(1), round(c.window[0]), round(c.window[1]),
    round(c.gamma), c.invert ? 1 : 0, c.colormap].join(',')).join(';'));
  return p.toString();
}

/** A partial state from a hash string (missing, malformed or unknown parts are left out). */
export function decodeState(hash) {
  const p = new URLSearchParams(String(hash || '').replace(/^#/, ''));
  const out = {};
  const num = (k) => (p.has(k) && Number.isFinite(Number(p.get(k))) ? Number(p.get(k)) : undefined);
  const x = num('x'), y = num('y'), zoom = num('zoom');
  if (x !== undefined && y !== undefined && zoom > 0) out.view = { center: [x, y], zoom };
  if (num('z') !== undefined) out.z = num('z');
  if (num('t') !== undefined) out.t = num('t');
  if (BLENDS.includes(p.get('blend'))) out.blend = p.get('blend');
  if (p.get('ch')) {
    out.channels = p.get('ch').split(';').map((s) => {
      const [v, color, lo, hi, gamma, inv, colormap] = s.split(',');
      const ch = {};
      if (v === '0' || v === '1') ch.visible = v === '1';
      if (/^[0-9a-fA-F]{6}$/.test(color || '')) ch.color = '#' + color.toLowerCase();
      if (Number.isFinite(Number(lo)) && Number.isFinite(Number(hi)) && lo !== '' && hi !== '') ch.window = [Number(lo), Number(hi)];
      if (gamma && Number(gamma) > 0) ch.gamma = Number(gamma);
      if (inv === '0' || inv === '1') ch.invert = inv === '1';
      if (COLORMAPS.includes(colormap)) ch.colormap = colormap;
      return ch;
    });
  }
  return out;
}

/** Keep location.hash in step with the viewer (debounced, without adding history entries). */
export function bindUrlState(viewer, { delay = 250 } = {}) {
  let timer = null;
  const write = () => {
    timer = null;
    const state = viewer.getState();
    if (state) history.replaceState(null, '', `${location.pathname}${location.search}#${encodeState(state)}`);
  };
  viewer.on('state', () => { if (!timer) timer = setTimeout(write, delay); });
  return { flush: () => { if (timer) { clearTimeout(timer); write(); } } };
}
