// Channel groups: named sets of visible channels with their settings (e.g. "immune", "structure").
// A group is {name, channels: [{index, color, window, gamma, invert, colormap}]}; showing it makes exactly
// its channels visible, with its settings. Groups travel in the URL state and in "Save as default"
// (.zattrs chromatile.groups).

const SETTINGS = ['color', 'window', 'gamma', 'invert', 'colormap'];

/** A group named `name` holding the visible channels of `state` with their current settings. */
export function groupFromState(name, state) {
  const channels = [];
  state.channels.forEach((c, index) => {
    if (!c.visible) return;
    const entry = { index };
    for (const k of SETTINGS) entry[k] = k === 'window' ? [c.window[0], c.window[1]] : c[k];
    channels.push(entry);
  });
  return { name, channels };
}

/** Show `group` on `viewer`: its channels visible with its settings, every other channel hidden (one state event). */
export function applyGroup(viewer, group) {
  const byIndex = new Map(group.channels.map((c) => [c.index, c]));
  const channels = viewer.getState().channels.map((_, i) => {
    const g = byIndex.get(i);
    if (!g) return { visible: false };
    const out = { visible: true };
    for (const k of SETTINGS) if (g[k] !== undefined) out[k] = g[k];
    return out;
  });
  viewer.setState({ channels });
}

/**
 * Groups usable on an image of `sizeC` channels, from any source (URL, store metadata): entries naming
 * a channel the image does not have are dropped, and each drop is described in `ignored`.
 */
export function cleanGroups(groups, sizeC, ignored = []) {
  const out = [];
  if (!Array.isArray(groups)) return out;
  for (const g of groups) {
    if (!g || typeof g.name !== 'string' || !g.name || !Array.isArray(g.channels)) continue;
    const channels = g.channels.filter((c) => {
      const ok = c && Number.isInteger(c.index) && c.index >= 0 && c.index < sizeC;
      if (!ok) ignored.push(`group "${g.name}": channel ${c && c.index !== undefined ? c.index + 1 : '?'} is not one of the image's ${sizeC}`);
      return ok;
    });
    out.push({ name: g.name, channels: channels.map((c) => ({ ...c })) });
  }
  return out;
}

/** The page's list of groups, with change listeners (the panel and the URL state both follow it). */
export class GroupList {
  constructor(groups = []) {
    this.groups = groups.map((g) => ({ ...g }));
    this.listeners = new Set();
  }

  list() { return this.groups.map((g) => ({ name: g.name, channels: g.channels.map((c) => ({ ...c })) })); }

  get(name) { return this.groups.find((g) => g.name === name) || null; }

  /** Add `group`, replacing one of the same name. */
  put(group) {
    const i = this.groups.findIndex((g) => g.name === group.name);
    if (i >= 0) this.groups[i] = group; else this.groups.push(group);
    this._changed();
  }

  remove(name) {
    const before = this.groups.length;
    this.groups = this.groups.filter((g) => g.name !== name);
    if (this.groups.length !== before) this._changed();
  }

  replace(groups) { this.groups = groups.map((g) => ({ ...g })); this._changed(); }

  on(fn) { this.listeners.add(fn); return () => this.listeners.delete(fn); }

  _changed() { for (const fn of this.listeners) fn(this.list()); }
}
