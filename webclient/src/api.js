// The embed API: createViewer(element, {source, ...}) -> a small public object over Viewer.
import { Viewer } from './viewer.js';
import { attachInteraction } from './interaction.js';
import { COLORMAPS, BLENDS } from './shader-builder.js';
import { buildUi } from './ui/index.js';

/**
 * Put a viewer in `element`.
 * options: source (OME-Zarr URL, required), token (added as ?token= to every request), ui (default
 * true: channel panel, sliders, readout, scale bar, minimap, toolbar), initialState (as getState()),
 * budgetMB (GPU texture budget, default 512), maxRequests (in flight, default 12), prefetchZ (slices
 * ahead of the last step, default 10, half as many behind, bounded to half the budget), prefetchT (default 1),
 * margin (tiles around the view, default 1), adminUrl (defaults endpoint for "save as default", e.g. /api/images/<id>/defaults),
 * image (when source is a container - bioformats2raw root, plate, well - the path of the image in it,
 * default its first), onPickImage (called with such a path when the user picks another image in the
 * container picker; without it no picker is shown).
 */
export function createViewer(element, options = {}) {
  const viewer = new Viewer(element, options);
  attachInteraction(viewer);
  let ui = null;
  if (options.ui !== false) ui = buildUi(viewer, options);
  const api = {
    /** Resolves once the store is open (rejects with the message shown if it cannot be). */
    ready: viewer.ready.then(() => api),
    get stats() { return viewer.stats; },
    /** Chunk requests in flight (visible tiles, margin and Z/T prefetch). */
    get inflight() { return viewer.inflight; },
    /** True when the view is complete and its margin and Z/T prefetch have all arrived. */
    get settled() { return viewer.settled; },
    get source() { return viewer.source; },
    get canvas() { return viewer.canvas; },
    colormaps: COLORMAPS,
    blendModes: BLENDS,
    /** Visible channels drawn at once (the GPU's limit, at least 100 on any WebGL2; 0 before `ready`). */
    get maxChannels() { return viewer.maxChannels; },
    setChannel: (i, settings) => viewer.setChannel(i, settings),
    setBlend: (name) => viewer.setBlend(name),
    setZ: (z) => viewer.setZ(z),
    setT: (t) => viewer.setT(t),
    setView: (view) => viewer.setView(view),
    setState: (state) => viewer.setState(state),
    fit: () => viewer.fit(),
    resetChannels: () => viewer.resetChannels(),
    getState: () => viewer.getState(),
    on: (event, fn) => viewer.on(event, fn),
    whenIdle: () => viewer.whenIdle(),
    valuesAt: (x, y) => viewer.valuesAt(x, y),
    exportPNG: () => viewer.exportPNG(),
    destroy: () => { if (ui) ui.destroy(); viewer.destroy(); },
    /** The panel's channel groups (list(), get(name), put(group), remove(name), on(fn)); null with ui: false. */
    groups: ui ? ui.groups : null,
    /** The core object, for tests and benchmarks. */
    _viewer: viewer,
  };
  return api;
}
