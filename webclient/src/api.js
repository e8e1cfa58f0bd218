// The embed API: createViewer(element, {source, ...}) -> a small public object over Viewer.
import { Viewer } from './viewer.js';
import { attachInteraction } from './interaction.js';
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
 * container picker; without it no picker is shown), allowUserShaders (default false: a shader, user
 * colormap or blend arriving in initialState or the store's saved defaults is offered - offeredShader,
 * the editor - but not run; the built-in page sets it).
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
    /** Fetched chunks waiting for a decoder. */
    get queued() { return viewer.queued; },
    /** True when the view is complete and its margin and Z/T prefetch have all arrived. */
    get settled() { return viewer.settled; },
    get source() { return viewer.source; },
    get canvas() { return viewer.canvas; },
    /** Colormap and blend names: the built-in ones, then those defined at run time. */
    get colormaps() { return viewer.colormaps; },
    get blendModes() { return viewer.blendModes; },
    /**
     * Define colormap `name` from GLSL declaring `vec3 colormap_<name>(float t, vec3 color)` (the form
     * of shaders/colormap_<name>.glsl). Resolves when usable; rejects with a ShaderError (name
     * 'ShaderError', `line` in `source`) and changes nothing when it does not compile.
     */
    defineColormap: async (name, source) => { viewer.defineColormap(name, source); },
    /** Define blend mode `name` from GLSL declaring `vec3 blend_<name>(vec3 acc, vec3 rgb)`. */
    defineBlend: async (name, source) => { viewer.defineBlend(name, source); },
    /** Composite with GLSL defining `vec3 composite()` (and #uicontrol lines); null: the built-in. */
    setShader: async (source, options) => { viewer.setShader(source, options); },
    /** Set a #uicontrol value of the compositing shader. */
    setShaderControl: (name, value) => viewer.setShaderControl(name, value),
    /** The compositing shader's controls with their values ([] for the built-in). */
    get shaderControls() { return viewer.shaderControls; },
    /** A shader from the link or saved defaults that this page did not run (no allowUserShaders), or null. */
    get offeredShader() { return viewer.offeredShader; },
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
