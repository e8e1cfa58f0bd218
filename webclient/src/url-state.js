// Shareable state in the URL hash: #x=..&y=..&zoom=..&z=..&t=..&blend=..&ch=<channel>;<channel>...&groups=...
// where each channel is visible,rrggbb,lo,hi,gamma,invert,colormap (e.g. 1,ff0000,100,2000,1,0,color)
// and each group is name:<index>,rrggbb,lo,hi,gamma,invert,colormap|<index>,... (groups joined by ';',
// the name percent-encoded). A compositing shader and the user colormaps and blends the state uses
// travel as sh=<base64url of deflated JSON {shader: {source, controls}, definitions: {colormaps, blends}}>
// (deflated synchronously with fflate, so decoding stays one synchronous step before the viewer opens).

import { deflateSync, inflateSync, strToU8, strFromU8 } from 'fflate';
import { COLORMAPS, BLENDS } from './shader-builder.js';

/** Longest sh= value read (characters): sources are capped in the viewer, this bounds the inflate. */
const MAX_PACKED = 64 * 1024;

/** @param {any} value */
function packShader(value) {
  const bytes = deflateSync(strToU8(JSON.stringify(value)), { level: 9 });
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** @param {string} text */
function unpackShader(text) {
  if (text.length > MAX_PACKED) throw new Error(`it is longer than ${MAX_PACKED} characters`);
  const bin = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
  return JSON.parse(strFromU8(inflateSync(bytes)));
}

/** `value` if it is {name: source string}, else null. */
function sourceMap(value) {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return null;
  return Object.values(value).every((v) => typeof v === 'string') ? value : null;
}

const round = (v, n = 3) => Number(Number(v).toFixed(n));

function encodeSettings(c) {
  return [c.color.slice(1), round(c.window[0]), round(c.window[1]), round(c.gamma), c.invert ? 1 : 0, c.colormap].join(',');
}

/** The hash string for a viewer state (and the page's channel groups, if any). */
export function encodeState(state, groups = []) {
  const p = new URLSearchParams();
  p.set('x', round(state.view.center[0], 2));
  p.set('y', round(state.view.center[1], 2));
  p.set('zoom', round(state.view.zoom, 6));
  p.set('z', state.z);
  p.set('t', state.t);
  p.set('blend', state.blend);
  p.set('ch', state.channels.map((c) => `${c.visible ? 1 : 0},${encodeSettings(c)}`).join(';'));
  if (state.shader || state.definitions) {
    p.set('sh', packShader({ shader: state.shader || null, definitions: state.definitions || null }));
  }
  if (groups.length) {
    p.set('groups', groups.map((g) => `${encodeURIComponent(g.name)}:${g.channels.map((c) => `${c.index},${encodeSettings(c)}`).join('|')}`).join(';'));
  }
  return p.toString();
}

/**
 * Settings from [rrggbb, lo, hi, gamma, invert, colormap] strings; each malformed field is left out
 * and named in `ignored` (prefixed by `where`).
 */
function decodeSettings([color, lo, hi, gamma, inv, colormap], where, ignored, userColormaps = []) {
  const ch = {};
  if (/^[0-9a-fA-F]{6}$/.test(color || '')) ch.color = '#' + color.toLowerCase();
  else if (color !== undefined && color !== '') ignored.push(`${where}: colour "${color}" is not rrggbb`);
  if (lo !== undefined || hi !== undefined) {
    const a = Number(lo), b = Number(hi);
    if (lo === '' || hi === '' || !Number.isFinite(a) || !Number.isFinite(b)) ignored.push(`${where}: window "${lo},${hi}" is not two numbers`);
    else if (a >= b) ignored.push(`${where}: window ${a}..${b} has its minimum above its maximum`);
    else ch.window = [a, b];
  }
  if (gamma !== undefined) {
    if (Number(gamma) > 0) ch.gamma = Number(gamma);
    else ignored.push(`${where}: gamma "${gamma}" is not a positive number`);
  }
  if (inv !== undefined) {
    if (inv === '0' || inv === '1') ch.invert = inv === '1';
    else ignored.push(`${where}: invert "${inv}" is not 0 or 1`);
  }
  if (colormap !== undefined) {
    if (COLORMAPS.includes(colormap) || userColormaps.includes(colormap)) ch.colormap = colormap;
    else ignored.push(`${where}: colormap "${colormap}" is unknown`);
  }
  return ch;
}

/**
 * A partial state from a hash string. Missing parts are left out; malformed or unknown parts are left
 * out too and described in `ignored` (a list of short sentences), so the page can say what it ignored.
 * `groups` holds the channel groups of the link, if any.
 */
export function decodeState(hash) {
  const p = new URLSearchParams(String(hash || '').replace(/^#/, ''));
  const out = { ignored: [] };
  const ignored = out.ignored;
  const num = (k) => {
    if (!p.has(k)) return undefined;
    if (p.get(k) !== '' && Number.isFinite(Number(p.get(k)))) return Number(p.get(k));
    ignored.push(`${k} "${p.get(k)}" is not a number`);
    return undefined;
  };
  const x = num('x'), y = num('y'), zoom = num('zoom');
  if (x !== undefined && y !== undefined && zoom > 0) out.view = { center: [x, y], zoom };
  else if (zoom !== undefined && !(zoom > 0)) ignored.push(`zoom ${zoom} is not positive`);
  const z = num('z'), t = num('t');
  if (z !== undefined) out.z = z;
  if (t !== undefined) out.t = t;
  // The shader part first: channels and blend may name its colormaps and blends.
  let userColormaps = [], userBlends = [];
  if (p.get('sh')) {
    try {
      const packed = unpackShader(p.get('sh'));
      const sh = packed && packed.shader;
      if (sh && (typeof sh.source !== 'string' || (sh.controls && typeof sh.controls !== 'object'))) throw new Error('its shader is not {source, controls}');
      const defs = packed.definitions || {};
      const colormaps = sourceMap(defs.colormaps || {}), blends = sourceMap(defs.blends || {});
      if (!colormaps || !blends) throw new Error('its colormaps and blends are not {name: source}');
      if (sh) out.shader = { source: sh.source, controls: sh.controls || {} };
      if (Object.keys(colormaps).length || Object.keys(blends).length) out.definitions = { colormaps, blends };
      userColormaps = Object.keys(colormaps);
      userBlends = Object.keys(blends);
    } catch (err) {
      ignored.push(`the shader part (sh=) could not be read: ${err.message}`);
    }
  }
  if (p.has('blend')) {
    if (BLENDS.includes(p.get('blend')) || userBlends.includes(p.get('blend'))) out.blend = p.get('blend');
    else ignored.push(`blend mode "${p.get('blend')}" is unknown`);
  }
  if (p.get('ch')) {
    out.channels = p.get('ch').split(';').map((s, i) => {
      const [v, ...rest] = s.split(',');
      const where = `channel ${i + 1}`;
      if (rest.length === 0) { ignored.push(`${where}: "${s}" is not a channel entry`); return {}; }
      const ch = decodeSettings(rest, where, ignored, userColormaps);
      if (v === '0' || v === '1') ch.visible = v === '1';
      else ignored.push(`${where}: visibility "${v}" is not 0 or 1`);
      return ch;
    });
  }
  if (p.get('groups')) {
    out.groups = [];
    for (const s of p.get('groups').split(';')) {
      const colon = s.indexOf(':');
      let name = '';
      try { name = decodeURIComponent(s.slice(0, colon)); } catch { /* left empty: ignored below */ }
      if (colon < 1 || !name) { ignored.push(`group "${s.slice(0, 40)}" has no name`); continue; }
      const channels = [];
      for (const entry of s.slice(colon + 1).split('|').filter(Boolean)) {
        const [index, ...rest] = entry.split(',');
        if (!/^\d+$/.test(index)) { ignored.push(`group "${name}": "${entry}" is not a channel entry`); continue; }
        channels.push({ index: Number(index), ...decodeSettings(rest, `group "${name}" channel ${Number(index) + 1}`, ignored, userColormaps) });
      }
      out.groups.push({ name, channels });
    }
  }
  return out;
}

/**
 * Keep location.hash in step with the viewer and the channel groups, without adding history entries:
 * written once the changes pause for `delay` ms. `groups` is the panel's group list (see ui/groups.js)
 * or null.
 */
export function bindUrlState(viewer, { delay = 250, groups = null } = {}) {
  let timer = null;
  let written = '';
  const write = () => {
    timer = null;
    const state = viewer.getState();
    if (!state) return;
    const url = `${location.pathname}${location.search}#${encodeState(state, groups ? groups.list() : [])}`;
    if (url !== written) history.replaceState(null, '', url);
    written = url;
  };
  // Not while a handle is dragged or the view pans: a replaceState (the browser commits a same-document
  // navigation; the link is ~2 KB for 64 channels) every 250 ms of a drag held the 1-channel recolour
  // frame 18 ms instead of 13 on a software GL (bench/viewer), where the GPU shares the CPU.
  const later = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(write, delay);
  };
  const offs = [viewer.on('state', later)];
  if (groups) offs.push(groups.on(later));
  return { flush: () => { if (timer) { clearTimeout(timer); write(); } }, stop: () => offs.forEach((f) => f()) };
}
