// @ts-check
// The viewer core: holds the state (view, Z, T, blend, channel settings; private, read through
// getState() and read-only getters), validates changes, and runs the frame: plan (planner.js), load
// (loader.js), draw (renderer.js). UI modules and interaction use only the public members.
import { openImage as openStore, StoreError } from './zarr.js';
import { DecodePool } from './decode-pool.js';
import { TextureCache, tileKey, READY } from './texture-cache.js';
import { Renderer, WebGLUnavailable } from './renderer.js';
import { TileLoader } from './loader.js';
import { plan, MISSING, SETTLED, DRAWABLE } from './planner.js';
import { clampZoom, fitView, minZoom, panView, screenToImage, zoomAbout } from './view.js';
import { COLORMAPS, BLENDS, checkDefinition, parseCompositeShader } from './shader-builder.js';
import { mark, measure, firstViewDone, isTracing } from './trace.js';

/** @typedef {import('./types.js').ImageSource} ImageSource */
/** @typedef {import('./types.js').View} View */
/** @typedef {import('./types.js').ViewerState} ViewerState */
/** @typedef {import('./types.js').ChannelSettings} ChannelSettings */
/** @typedef {import('./types.js').TileRef} TileRef */
/** @typedef {import('./types.js').ShaderState} ShaderState */
/** @typedef {import('./types.js').ShaderDefinitions} ShaderDefinitions */
/** @typedef {import('./shader-builder.js').ShaderControl} ShaderControl */

/**
 * @param {ChannelSettings} ch
 * @returns {ChannelSettings}
 */
function cloneChannel(ch) {
  return { color: ch.color, window: [ch.window[0], ch.window[1]], visible: ch.visible, gamma: ch.gamma,
    invert: ch.invert, colormap: ch.colormap };
}

/**
 * @param {ViewerState} s
 * @returns {ViewerState}
 */
function cloneState(s) {
  /** @type {ViewerState} */
  const out = { view: { center: [s.view.center[0], s.view.center[1]], zoom: s.view.zoom }, z: s.z, t: s.t, blend: s.blend,
    channels: s.channels.map(cloneChannel), shader: s.shader ? { source: s.shader.source, controls: { ...s.shader.controls } } : null };
  if (s.definitions) out.definitions = { colormaps: { ...s.definitions.colormaps }, blends: { ...s.definitions.blends } };
  return out;
}

/**
 * @template T
 * @param {T} o
 * @returns {Readonly<T>}
 */
function deepFreeze(o) {
  if (o && typeof o === 'object') { for (const v of Object.values(o)) deepFreeze(v); Object.freeze(o); }
  return o;
}

/**
 * A control's value checked against its declaration.
 * @param {ShaderControl} c
 * @param {any} value
 * @returns {number | boolean | string}
 */
function controlValue(c, value) {
  if (c.type === 'float') {
    const v = Number(value);
    if (typeof value === 'boolean' || !Number.isFinite(v)) throw new TypeError(`control ${c.name} takes a number, got ${value}`);
    return Math.min(c.max, Math.max(c.min, v));
  }
  if (c.type === 'vec3') {
    if (typeof value !== 'string' || !/^#[0-9a-fA-F]{6}$/.test(value)) throw new TypeError(`control ${c.name} takes "#rrggbb", got ${value}`);
    return value.toLowerCase();
  }
  if (typeof value !== 'boolean') throw new TypeError(`control ${c.name} takes true or false, got ${value}`);
  return value;
}

/**
 * The store layer's contract with the viewer (zarr.js implements it).
 * @type {(url: string, options: {token: ?string, image: ?string}) => Promise<ImageSource>}
 */
const openImage = /** @type {any} */ (openStore);

// Z or T changes closer together than this are a drag (or a held key): only coarse levels load.
const MOVING_MS = 150;

/**
 * @typedef {object} ViewerOptions
 * @property {string} [source]
 * @property {?string} [token]
 * @property {?string} [image] which image of a container (bioformats2raw, plate) to open
 * @property {number} [maxRequests]
 * @property {number} [budgetMB]
 * @property {number} [prefetchZ]
 * @property {number} [prefetchT]
 * @property {number} [margin]
 * @property {Partial<ViewerState>} [initialState]
 * @property {boolean} [allowUserShaders] apply shaders (and user colormaps and blends) arriving in
 *   initialState or the store's saved defaults; without it they are only offered (offeredShader)
 */

// A user shader's frame is "far longer" than the built-in one beyond this factor and margin (ms).
const SLOW_FACTOR = 8;
const SLOW_MARGIN_MS = 30;
// Frames timed (to the end of the GPU's work) after a program change, the least of them kept.
const TIMED_FRAMES = 3;

export class Viewer {
  /** @type {ViewerState | null} */
  #state = null;
  /** @type {Readonly<ViewerState> | null} */
  #snapshot = null;
  /** @type {ImageSource | null} */
  #source = null;
  /** @type {ChannelSettings[]} */
  #defaults = [];
  /** @type {Map<string, Set<Function>>} */
  #listeners = new Map();
  /** @type {Array<() => void>} */
  #idleWaiters = [];
  /** @type {Renderer | null} */
  #renderer = null;
  /** @type {TextureCache | null} */
  #cache = null;
  /** @type {TileLoader | null} */
  #loader = null;
  /** @type {DecodePool | null} */
  #pool = null;
  /** @type {ResizeObserver | null} */
  #resizeObserver = null;
  #complete = false;
  #frameRequested = false;
  #needSchedule = true;
  #schedulePending = false;
  #zDir = 1;
  #tDir = 1;
  #lastStep = -Infinity;
  #moving = false;
  /** @type {ReturnType<typeof setTimeout> | null} */
  #movingTimer = null;
  #destroyed = false;
  #cssWidth = 1;
  #cssHeight = 1;
  #dpr = 1;
  #capWarned = false;
  #withdrawn = false;
  /** User colormaps and blends, name -> source, in definition order. */
  #colormapDefs = new Map();
  #blendDefs = new Map();
  /** The compositing shader: its source, compiled text and declared controls; null = built-in. @type {{source: string, code: string, controls: ShaderControl[]} | null} */
  #shader = null;
  /** @type {Record<string, number | boolean | string>} */
  #controlValues = {};
  /** @type {{shader: ShaderState | null, definitions: ShaderDefinitions | null} | null} */
  #offered = null;
  #timedFrames = 0;
  #builtinMs = Infinity;
  /** Until the first complete frame; then frames are drawn whenever asked. */
  #firstView = true;
  /** A change other than a tile's arrival asks for the next frame (drawn even while the first view loads). */
  #redrawWanted = false;
  /** The quarters of the view's tiles the last frame drawn during the first view had (-1: not all covered). */
  #shownStep = -1;
  /** Draws the last frame again (for timing the built-in program before a user one replaces it). @type {(() => number) | null} */
  #lastDraw = null;
  #userMs = Infinity;
  /** Signalled once the GPU has drawn the last frame submitted. @type {WebGLSync | null} */
  #lastFrameSync = null;
  /** Whether #releaseAhead is waiting for the GPU. */
  #releasing = false;
  /** What the canvas shows: the last drawn frame's tiles and render settings, and its top plane [t, z]. */
  #shownTiles = '';
  #shownSettings = '';
  #shownCovered = false;
  /** @type {[number, number] | null} */
  #shownPlane = null;

  /**
   * @param {HTMLElement} element
   * @param {ViewerOptions} [options]
   */
  constructor(element, options = {}) {
    this.options = { maxRequests: 12, budgetMB: 512, prefetchZ: 10, prefetchT: 1, margin: 1, ...options };
    /** Counters for tests and benchmarks. @type {Record<string, number>} */
    this.stats = { requests: 0, requestsAborted: 0, requestsFailed: 0, chunksMissing: 0, bytesFetched: 0,
      uploads: 0, uploadBytes: 0, evictions: 0, frames: 0, framesUncovered: 0, tileDraws: 0, zSteps: 0,
      zStepsResident: 0, tSteps: 0, tStepsResident: 0, lastFrameMs: 0, decodeMs: 0, decodeWorkMs: 0, decoded: 0,
      peakInflight: 0, level: 0, compileMs: 0, builtinFrameMs: 0, shaderFrameMs: 0, framesDeferred: 0, tileGrowths: 0 };
    /** @type {Error | null} */
    this.error = null;

    this.root = document.createElement('div');
    this.root.className = 'ct-viewer';
    this.stage = document.createElement('div');
    this.stage.className = 'ct-stage';
    this.stage.tabIndex = 0;
    this.canvas = document.createElement('canvas');
    this.canvas.className = 'ct-canvas';
    this.messages = document.createElement('div');
    this.messages.className = 'ct-messages';
    this.stage.append(this.canvas, this.messages);
    this.root.append(this.stage);
    element.append(this.root);
    this.element = element;

    this.ready = this.#open().catch((err) => {
      this.error = err;
      if (this.#pool) { this.#pool.destroy(); this.#pool = null; }
      const kind = err instanceof WebGLUnavailable ? 'webgl' : err instanceof StoreError ? 'store' : 'error';
      this.showMessage(kind, err.message);
      this.emit('error', { kind, message: err.message });
      throw err;
    });
    this.ready.catch(() => {});
  }

  async #open() {
    // The panel is built right after the constructor returns: from a microtask on, the stage has its
    // final size, and the canvas gets it before its WebGL context exists. A context created at that
    // size is never reshaped; each reshape (width, then height) waited for the GPU process to finish
    // compiling the programs, and both sat between the metadata and the first chunk request.
    await null;
    if (this.#destroyed) return;
    this.#resizeCanvas();
    // Workers start while the metadata is read; their codec is compiled as soon as it is known.
    const pool = new DecodePool();
    this.#pool = pool;
    mark('store-open');
    // The metadata is read (or the page's preloaded responses adopted) while the WebGL context is
    // made and its programs compiled, which holds the main thread on a software GL.
    const opening = this.options.source
      ? openImage(this.options.source, { token: this.options.token || null, image: this.options.image || null }) : null;
    if (opening) opening.catch(() => {}); // reported below, unless WebGL is missing (reported first)
    const renderer = new Renderer(this.canvas);
    this.#renderer = renderer;
    mark('webgl');
    if (!opening) throw new StoreError('No image source given.');
    const source = await opening;
    if (this.#destroyed) return;
    mark('metadata');
    this.#source = source;
    pool.warm(source.levels[0].compressor);
    const cache = new TextureCache(renderer.gl, { channels: source.sizeC, dtype: source.dtype,
      budgetBytes: this.options.budgetMB * 1024 * 1024, stats: this.stats });
    this.#cache = cache;
    this.#loader = new TileLoader(source, cache, pool, this.stats, this.options.maxRequests, {
      onSettled: (e) => { if (this.#redrawFor(e)) { this.#needSchedule = true; this.#complete = false; this.#requestFrame(); } },
      onError: (err) => {
        if (/\bHTTP 410\b/.test(err.message)) { this.#withdraw(err); return; }
        const n = ++this.stats.requestsFailed;
        this.showMessage('tile', `${n} tile${n > 1 ? 's' : ''} failed to load: ${err.message}`);
        this.emit('error', { kind: 'tile', message: err.message });
      },
    });
    this.#defaults = source.channels.map(cloneChannel);
    this.#state = {
      view: { center: [source.width / 2, source.height / 2], zoom: 1 },
      z: source.defaultZ, t: source.defaultT, blend: 'additive',
      channels: source.channels.map(cloneChannel), shader: null,
    };
    this.fit({ silent: true });
    // The store's saved shader ("Save as default"), then the link's own: run only where allowed.
    const saved = source.attrs && source.attrs.chromatile;
    if (saved && (saved.shader || saved.definitions)) this.#applyUntrusted({ shader: saved.shader, definitions: saved.definitions });
    // Channels whose saved colormap was not defined (not allowed, or it failed) show their colour.
    for (const ch of [...this.#state.channels, ...this.#defaults]) if (!this.colormaps.includes(ch.colormap)) ch.colormap = 'color';
    if (this.options.initialState) {
      const { shader, definitions, ...rest } = this.options.initialState;
      if (shader !== undefined || definitions) this.#applyUntrusted({ shader, definitions });
      // A hand-edited or stale link must not stop the image from opening: say what was ignored.
      try { this.setState(this.#knownColormaps(rest), { silent: true }); } catch (err) {
        this.showMessage('state', `Part of the saved view state was ignored: ${/** @type {Error} */ (err).message}`);
      }
    }
    this.#resizeObserver = new ResizeObserver(() => { if (this.#resizeCanvas()) this.invalidate(true); });
    this.#resizeObserver.observe(this.stage);
    // The view's chunks are asked for now, not after the panel is built and the next animation frame:
    // that wait was a fifth of the first view (bench/viewer's "to the first chunk request").
    this.#schedule(this.#plan(true));
    this.emit('open', source);
    this.invalidate(true);
  }

  // ---- read-only views of the state -------------------------------------------------------------

  /** The opened image (null until `ready`). */
  get source() { return this.#source; }

  /** The current state, frozen (a new object after every change); getState() gives a mutable copy. */
  get state() {
    if (!this.#state) return null;
    if (!this.#snapshot) this.#snapshot = deepFreeze(cloneState(this.#full(this.#state)));
    return this.#snapshot;
  }

  get cssWidth() { return this.#cssWidth; }
  get cssHeight() { return this.#cssHeight; }
  get dpr() { return this.#dpr; }
  /** Visible channels one frame draws at most (the GPU's limit; at least 100 on any WebGL2). */
  get maxChannels() { return this.#renderer ? this.#renderer.maxChannels : 0; }
  /** True when the last frame drew every visible tile at the target level with the current settings. */
  get complete() { return this.#complete; }
  /** Chunk requests in flight (fetching, waiting for a decoder or decoding). */
  get inflight() { return this.#loader ? this.#loader.size : 0; }
  /** Fetched chunks waiting for a decoder (tests and benchmarks). */
  get queued() { return this.#loader ? this.#loader.queued : 0; }
  /** The GPU texture cache, the renderer and the decode worker pool, for tests and benchmarks. */
  get cache() { return this.#cache; }
  get pool() { return this.#pool; }
  get renderer() { return this.#renderer; }

  /** True when the view is complete and nothing it wants (margin, Z/T prefetch) is loading or waiting. */
  get settled() {
    const l = this.#loader;
    return this.#complete && !this.#needSchedule && !this.#moving && !!l && l.size === 0 && l.waiting === 0;
  }

  // ---- events -------------------------------------------------------------------------------

  /**
   * Call `fn(detail)` on `event`: 'open', 'view', 'state', 'idle', 'frame', 'error', 'pointer', 'message'.
   * @param {string} event
   * @param {Function} fn
   */
  on(event, fn) {
    let set = this.#listeners.get(event);
    if (!set) { set = new Set(); this.#listeners.set(event, set); }
    set.add(fn);
    return () => { set.delete(fn); };
  }

  /**
   * @param {string} event
   * @param {any} [detail]
   */
  emit(event, detail) {
    for (const fn of this.#listeners.get(event) || []) {
      try { fn(detail); } catch (err) { console.error(err); }
    }
  }

  /**
   * @param {string} kind
   * @param {string} text
   */
  showMessage(kind, text) {
    /** @type {HTMLElement | null} */
    let el = this.messages.querySelector(`[data-kind="${kind}"]`);
    if (!el) {
      el = document.createElement('div');
      el.className = `ct-message ct-message-${kind}`;
      el.dataset.kind = kind;
      el.setAttribute('role', 'alert');
      this.messages.append(el);
    }
    el.textContent = text;
    this.emit('message', { kind, text });
  }

  /** @param {string} kind */
  clearMessage(kind) {
    const el = this.messages.querySelector(`[data-kind="${kind}"]`);
    if (el) el.remove();
  }

  // ---- state changes --------------------------------------------------------------------------

  /** @returns {ViewerState} */
  #s() {
    if (!this.#state) throw new Error('The image is not open yet: wait for `ready`.');
    return this.#state;
  }

  /** @returns {ImageSource} */
  #src() {
    if (!this.#source) throw new Error('The image is not open yet: wait for `ready`.');
    return this.#source;
  }

  /**
   * {view: {center, zoom}, z, t, blend, channels: [...], shader, definitions?}, a copy. `shader` is
   * {source, controls} (null for the built-in compositing); `definitions` holds the sources of the
   * user colormaps and blends the state uses, so that the state is complete wherever it goes.
   */
  getState() {
    return this.#state ? cloneState(this.#full(this.#state)) : null;
  }

  /**
   * The state with the shader and the user definitions it uses.
   * @param {ViewerState} s
   * @returns {ViewerState}
   */
  #full(s) {
    const shader = this.#shader ? { source: this.#shader.source, controls: { ...this.#controlValues } } : null;
    const used = (/** @type {Map<string, string>} */ defs, /** @type {string} */ kind, /** @type {string[]} */ names) => {
      /** @type {Record<string, string>} */
      const out = {};
      for (const [name, src] of defs) {
        if (names.includes(name) || (shader && new RegExp(String.raw`\b${kind}_${name}\s*\(`).test(shader.source))) out[name] = src;
      }
      return out;
    };
    const colormaps = used(this.#colormapDefs, 'colormap', s.channels.map((c) => c.colormap));
    const blends = used(this.#blendDefs, 'blend', [s.blend]);
    const full = { ...s, shader };
    if (Object.keys(colormaps).length || Object.keys(blends).length) full.definitions = { colormaps, blends };
    else delete full.definitions;
    return full;
  }

  /**
   * Apply any part of a state object (as getState returns).
   * @param {Partial<ViewerState> & {channels?: Array<Partial<ChannelSettings> | null>}} state
   */
  setState(state, { silent = false } = {}) {
    const s = this.#s();
    // User colormaps and blends first: the channels and blend below may name them.
    const defs = state.definitions;
    if (defs) {
      for (const [name, src] of Object.entries(defs.colormaps || {})) if (this.#colormapDefs.get(name) !== src) this.defineColormap(name, src);
      for (const [name, src] of Object.entries(defs.blends || {})) if (this.#blendDefs.get(name) !== src) this.defineBlend(name, src);
    }
    if (state.shader === null && this.#shader) this.setShader(null, { silent: true });
    else if (state.shader) {
      if (!this.#shader || this.#shader.source !== state.shader.source) {
        this.setShader(state.shader.source, { controls: state.shader.controls, silent: true });
      } else {
        for (const [k, v] of Object.entries(state.shader.controls || {})) this.setShaderControl(k, v, { silent: true });
      }
    }
    if (state.view) this.setView(state.view, { silent: true });
    if (Number.isFinite(state.z)) this.setZ(/** @type {number} */ (state.z), { silent: true });
    if (Number.isFinite(state.t)) this.setT(/** @type {number} */ (state.t), { silent: true });
    if (state.blend) this.setBlend(state.blend, { silent: true });
    (state.channels || []).forEach((ch, i) => { if (ch && i < s.channels.length) this.setChannel(i, ch, { silent: true }); });
    if (!silent) { this.#emitView(); this.#emitState(); }
  }

  /**
   * Change channel i's settings; fields left out keep their value. No request, no upload.
   * @param {number} i
   * @param {Partial<ChannelSettings>} settings
   */
  setChannel(i, settings, { silent = false } = {}) {
    const s = this.#s();
    const ch = s.channels[i];
    if (!ch) throw new RangeError(`no channel ${i} (the image has ${s.channels.length})`);
    if (settings.color !== undefined) {
      if (!/^#[0-9a-fA-F]{6}$/.test(settings.color)) throw new TypeError(`color must be "#rrggbb", got ${settings.color}`);
      ch.color = settings.color.toLowerCase();
    }
    if (settings.window !== undefined) ch.window = [Number(settings.window[0]), Number(settings.window[1])];
    if (settings.gamma !== undefined) ch.gamma = Number(settings.gamma);
    if (settings.invert !== undefined) ch.invert = Boolean(settings.invert);
    if (settings.colormap !== undefined) {
      const names = this.colormaps;
      if (!names.includes(settings.colormap)) throw new TypeError(`unknown colormap ${settings.colormap} (have ${names.join(', ')})`);
      ch.colormap = settings.colormap;
    }
    if (settings.visible !== undefined && Boolean(settings.visible) !== ch.visible) {
      ch.visible = Boolean(settings.visible);
      this.#needSchedule = true; // a newly shown channel may need tiles
    }
    this.#changed();
    if (!silent) this.#emitState();
  }

  /** @param {string} name */
  setBlend(name, { silent = false } = {}) {
    const names = this.blendModes;
    if (!names.includes(name)) throw new TypeError(`unknown blend mode ${name} (have ${names.join(', ')})`);
    this.#s().blend = name;
    this.#changed();
    if (!silent) this.#emitState();
  }

  // ---- shaders defined at run time (docs/viewer.md, "Extending the shaders") ------------------

  /** Colormap names: the built-in ones, then those defined at run time. */
  get colormaps() { return this.#renderer ? [...this.#renderer.colormaps] : [...COLORMAPS]; }
  /** Blend mode names: the built-in ones, then those defined at run time. */
  get blendModes() { return this.#renderer ? [...this.#renderer.blends] : [...BLENDS]; }
  /** The compositing shader's #uicontrol controls with their current values ([] for the built-in). */
  get shaderControls() {
    return this.#shader ? this.#shader.controls.map((c) => ({ ...c, value: this.#controlValues[c.name] })) : [];
  }
  /**
   * A shader (and definitions) that came with the link or the saved defaults but was not run because
   * the page did not opt in (allowUserShaders); null when there is none.
   */
  get offeredShader() { return this.#offered; }

  /** @returns {Renderer} */
  #gpu() {
    if (!this.#renderer) throw new Error('No WebGL2 renderer: the viewer could not start.');
    return this.#renderer;
  }

  /**
   * Rebuild the program with the given user definitions (the current ones where left out); nothing
   * changes unless it compiles.
   * @param {{colormaps?: Map<string, string>, blends?: Map<string, string>, shader?: {source: string, code: string, controls: ShaderControl[]} | null}} next
   * @param {{kind: string, name: string}} changed
   */
  #rebuild(next, changed) {
    const colormaps = next.colormaps || this.#colormapDefs, blends = next.blends || this.#blendDefs;
    const shader = next.shader === undefined ? this.#shader : next.shader;
    const ms = this.#gpu().rebuild({ colormaps: [...colormaps], blends: [...blends], composite: shader ? shader.code : null },
      changed, shader ? shader.controls : []);
    this.stats.compileMs = ms;
    this.#colormapDefs = colormaps;
    this.#blendDefs = blends;
    this.#shader = shader;
    this.#timedFrames = shader || colormaps.size || blends.size ? TIMED_FRAMES : 0;
    this.#userMs = Infinity;
    this.#builtinMs = Infinity;
    this.#snapshot = null;
    this.invalidate();
  }

  /**
   * Define (or redefine) colormap `name` from GLSL declaring `vec3 colormap_<name>(float t, vec3 color)`,
   * the form of a shaders/colormap_<name>.glsl file. Throws a ShaderError (line in `source`) or a
   * TypeError (bad name) and changes nothing when it fails. No request, no upload.
   * @param {string} name
   * @param {string} source
   */
  defineColormap(name, source) {
    this.#define('colormap', name, source);
  }

  /**
   * Define (or redefine) blend mode `name` from GLSL declaring `vec3 blend_<name>(vec3 acc, vec3 rgb)`.
   * @param {string} name
   * @param {string} source
   */
  defineBlend(name, source) {
    this.#define('blend', name, source);
  }

  /**
   * @param {'colormap' | 'blend'} kind
   * @param {string} name
   * @param {string} source
   */
  #define(kind, name, source) {
    checkDefinition(kind, name, source);
    const next = new Map(kind === 'colormap' ? this.#colormapDefs : this.#blendDefs);
    next.set(name, source);
    this.#rebuild(kind === 'colormap' ? { colormaps: next } : { blends: next }, { kind, name });
    this.emit('shaders', { compileMs: this.stats.compileMs });
  }

  /**
   * Composite with `source` (defining `vec3 composite()`, with optional #uicontrol lines) instead of
   * the per-channel colormap and blend loop; null goes back to the built-in. `controls` gives starting
   * values (others start at their default). Throws a ShaderError and changes nothing when it fails.
   * @param {string | null} source
   * @param {{controls?: Record<string, any>, silent?: boolean}} [options]
   */
  setShader(source, { controls = {}, silent = false } = {}) {
    if (source === null || source === undefined) {
      this.#rebuild({ shader: null }, { kind: 'shader', name: '' });
      this.#controlValues = {};
      this.#gpu().controls = this.#controlValues;
    } else {
      const parsed = parseCompositeShader(source);
      this.#rebuild({ shader: { source, code: parsed.code, controls: parsed.controls } }, { kind: 'shader', name: '' });
      /** @type {Record<string, number | boolean | string>} */
      const values = {};
      for (const c of parsed.controls) {
        values[c.name] = c.default;
        if (controls && controls[c.name] !== undefined) {
          try { values[c.name] = controlValue(c, controls[c.name]); } catch { /* a stale value: the default */ }
        }
      }
      this.#controlValues = values;
      this.#gpu().controls = values;
    }
    this.#offered = null;
    this.clearMessage('shader');
    this.clearMessage('shader-slow');
    this.emit('shaders', { compileMs: this.stats.compileMs });
    if (!silent) this.#emitState();
  }

  /**
   * Set a #uicontrol value of the compositing shader: a number for a slider (kept within its range),
   * '#rrggbb' for a colour, a boolean for a checkbox. No recompile, no request, no upload.
   * @param {string} name
   * @param {any} value
   */
  setShaderControl(name, value, { silent = false } = {}) {
    const c = this.#shader && this.#shader.controls.find((x) => x.name === name);
    if (!c) throw new TypeError(`the shader has no control ${name}${this.#shader ? ` (it has ${this.#shader.controls.map((x) => x.name).join(', ') || 'none'})` : ''}`);
    this.#controlValues[name] = controlValue(c, value);
    this.#snapshot = null;
    this.invalidate();
    if (!silent) this.#emitState();
  }

  /**
   * Shader and definitions from a link or saved defaults: applied when the page allows user shaders,
   * else kept as offeredShader (the editor shows it) and said so.
   * @param {{shader?: ShaderState | null, definitions?: ShaderDefinitions | null}} part
   */
  #applyUntrusted({ shader, definitions }) {
    if (!this.options.allowUserShaders) {
      if (shader || definitions) {
        this.#offered = { shader: shader || null, definitions: definitions || null };
        this.showMessage('shader', 'This view comes with a custom shader, which this page does not run ' +
          '(the embedding page has not set allowUserShaders).');
      }
      return;
    }
    try { this.setState({ definitions: definitions || undefined, shader }, { silent: true }); } catch (err) {
      this.#offered = { shader: shader || null, definitions: definitions || null };
      this.showMessage('shader', `The view's custom shader was not applied: ${/** @type {Error} */ (err).message}`);
    }
  }

  /**
   * `state` without channel colormaps this viewer does not know (a shader that was not applied).
   * @param {Partial<ViewerState>} state
   * @returns {any}
   */
  #knownColormaps(state) {
    if (!state.channels) return state;
    const names = this.colormaps;
    return { ...state, channels: state.channels.map((ch) => {
      if (!ch || !ch.colormap || names.includes(ch.colormap)) return ch;
      return Object.fromEntries(Object.entries(ch).filter(([k]) => k !== 'colormap'));
    }) };
  }

  /** Restore every channel to the store's default rendering settings. */
  resetChannels() {
    this.#defaults.forEach((d, i) => this.setChannel(i, d, { silent: true }));
    this.#emitState();
  }

  /** @param {number} z */
  setZ(z, { silent = false } = {}) {
    const s = this.#s();
    z = Math.max(0, Math.min(this.#src().sizeZ - 1, Math.round(z)));
    if (z === s.z) return;
    // Only steps teach the direction: a jump (slider, API) says nothing about where the user goes next.
    if (Math.abs(z - s.z) <= 2) this.#zDir = z > s.z ? 1 : -1;
    this.stats.zSteps++;
    if (this.#planeResident(z, s.t)) this.stats.zStepsResident++;
    s.z = z;
    this.#stepped();
    if (!silent) this.#emitState();
  }

  /** @param {number} t */
  setT(t, { silent = false } = {}) {
    const s = this.#s();
    t = Math.max(0, Math.min(this.#src().sizeT - 1, Math.round(t)));
    if (t === s.t) return;
    if (Math.abs(t - s.t) <= 2) this.#tDir = t > s.t ? 1 : -1;
    this.stats.tSteps++;
    if (this.#planeResident(s.z, t)) this.stats.tStepsResident++;
    s.t = t;
    this.#stepped();
    if (!silent) this.#emitState();
  }

  /**
   * center: level-0 pixel [x, y] at the canvas centre; zoom: CSS pixels per level-0 pixel.
   * @param {{center?: [number, number] | number[], zoom?: number}} view
   */
  setView({ center, zoom }, { silent = false } = {}) {
    const v = this.#s().view;
    if (center) v.center = [Number(center[0]), Number(center[1])];
    if (zoom) v.zoom = clampZoom(Number(zoom), this.#src(), this.#cssWidth, this.#cssHeight);
    this.#needSchedule = true;
    this.#changed();
    if (!silent) { this.#emitView(); this.#emitState(); }
  }

  minZoom() { return minZoom(this.#src(), this.#cssWidth, this.#cssHeight); }

  /** Fit the whole plane in the canvas, centred. */
  fit({ silent = false } = {}) {
    this.setView(fitView(this.#src(), this.#cssWidth, this.#cssHeight), { silent });
  }

  /**
   * Zoom by `factor` keeping level-0 point under canvas CSS position (sx, sy) fixed.
   * @param {number} factor
   * @param {number} sx
   * @param {number} sy
   */
  zoomAt(factor, sx, sy) {
    const v = this.#s().view;
    const zoom = clampZoom(v.zoom * factor, this.#src(), this.#cssWidth, this.#cssHeight);
    this.setView(zoomAbout(v, this.#cssWidth, this.#cssHeight, zoom, sx, sy));
  }

  /**
   * Move the image by (dx, dy) CSS pixels.
   * @param {number} dx
   * @param {number} dy
   */
  panBy(dx, dy) {
    this.setView(panView(this.#s().view, dx, dy));
  }

  /**
   * Level-0 position under canvas CSS position (sx, sy).
   * @param {number} sx
   * @param {number} sy
   */
  screenToImage(sx, sy) {
    return screenToImage(this.#s().view, this.#cssWidth, this.#cssHeight, sx, sy);
  }

  #emitView() { this.emit('view', this.getState()?.view); }
  #emitState() { this.emit('state', this.getState()); }

  #changed() {
    this.#snapshot = null;
    this.invalidate();
  }

  // A Z/T change: replan, and note whether changes come fast enough to be a drag.
  #stepped() {
    const now = performance.now();
    if (now - this.#lastStep < MOVING_MS) {
      this.#moving = true;
      if (this.#movingTimer) clearTimeout(this.#movingTimer);
      this.#movingTimer = setTimeout(() => { this.#movingTimer = null; this.#moving = false; this.invalidate(true); }, MOVING_MS);
    }
    this.#lastStep = now;
    this.#needSchedule = true;
    this.#changed();
    this.#scheduleSoon();
  }

  // The requests follow a Z/T change at once (once the calling code's other changes are in), not at the
  // next animation frame: until then the loader went on fetching and decoding the old plane's
  // neighbours, and that frame can wait 100-300 ms for the GPU's previous one on a software GL.
  #scheduleSoon() {
    if (this.#schedulePending) return;
    this.#schedulePending = true;
    queueMicrotask(() => {
      this.#schedulePending = false;
      if (this.#destroyed || this.#withdrawn || !this.#needSchedule || !this.#source) return;
      this.#schedule(this.#plan(true));
    });
  }

  // ---- frames ---------------------------------------------------------------------------------

  /** Size the canvas to the stage; true when the size changed (a new size clears the drawing buffer). */
  #resizeCanvas() {
    const dpr = window.devicePixelRatio || 1;
    const r = this.stage.getBoundingClientRect();
    this.#cssWidth = Math.max(1, Math.round(r.width));
    this.#cssHeight = Math.max(1, Math.round(r.height));
    this.#dpr = dpr;
    const w = Math.round(this.#cssWidth * dpr), h = Math.round(this.#cssHeight * dpr);
    if (w === this.canvas.width && h === this.canvas.height) return false;
    this.canvas.width = w;
    this.canvas.height = h;
    return true;
  }

  /** Ask for a redraw next frame (and a new loading plan when `schedule`). */
  invalidate(schedule = false) {
    if (schedule) this.#needSchedule = true;
    // A change of the picture alone (settings, not the view): chunks loaded ahead wait for their
    // decodes until its frame is drawn (bench/viewer's contrast change, right after the first view).
    else if (this.#loader && !this.#firstView) this.#loader.holdAhead(true);
    this.#complete = false;
    this.#redrawWanted = true;
    this.#requestFrame();
  }

  #requestFrame() {
    if (this.#frameRequested || this.#destroyed) return;
    this.#frameRequested = true;
    requestAnimationFrame(() => this.#frame());
  }

  #visibleIndices() {
    /** @type {number[]} */
    const out = [];
    this.#s().channels.forEach((c, i) => { if (c.visible) out.push(i); });
    return out;
  }

  /**
   * The planner's view of what is on the GPU, for the visible channels.
   * @param {number[]} channels
   * @returns {(tile: TileRef) => number}
   */
  #tileState(channels) {
    const cache = /** @type {TextureCache} */ (this.#cache);
    return ({ level, t, z, ty, tx }) => {
      const e = cache.get(tileKey(level, t, z, ty, tx));
      if (!cache.isReady(e, channels)) return MISSING;
      return e.texture ? DRAWABLE : SETTLED;
    };
  }

  /**
   * Whether a chunk that just settled (cache entry `e`) can change the picture: only once its tile has
   * every visible channel (a tile is drawn whole), and only while the view is incomplete (once complete,
   * what arrives is margin or prefetch, not drawn). Each redraw is a whole software-GL frame competing
   * with the decoders for the CPU: a Z step used to redraw the same picture for every chunk.
   * @param {any} e
   */
  #redrawFor(e) {
    const cache = this.#cache;
    if (!cache || !this.#state) return true;
    return !this.#complete && cache.isReady(e, this.#visibleIndices());
  }

  /**
   * @param {boolean} schedule with the requests (else the draw list only)
   */
  #plan(schedule) {
    const s = this.#s();
    const channels = this.#visibleIndices();
    const src = this.#src();
    const cache = /** @type {TextureCache} */ (this.#cache);
    cache.setVisible(channels);
    const o = this.options;
    return plan({
      source: src, view: s.view, width: this.#cssWidth, height: this.#cssHeight, dpr: this.#dpr, z: s.z, t: s.t,
      channels, tileState: this.#tileState(channels), planes: () => cache.planes(), schedule,
      zDir: this.#zDir, tDir: this.#tDir, moving: this.#moving, margin: o.margin, prefetchZ: o.prefetchZ,
      prefetchT: o.prefetchT, budgetBytes: cache.budgetBytes, shown: this.#shownPlane ?? undefined,
      tileBytes: (level) => cache.tileBytes(level, src, channels),
    });
  }

  /**
   * True when plane (t, z) is complete at the current view's level.
   * @param {number} z
   * @param {number} t
   */
  #planeResident(z, t) {
    const p = this.#plan(false);
    const state = this.#tileState(this.#visibleIndices());
    return p.target.every(({ ty, tx }) => state({ level: p.level, t, z, ty, tx }) !== MISSING);
  }

  /**
   * Hand the plan's requests to the loader; keep in the cache what the plan touches.
   * @param {ReturnType<typeof plan>} p
   */
  #schedule(p) {
    const cache = /** @type {TextureCache} */ (this.#cache), loader = /** @type {TileLoader} */ (this.#loader);
    this.#needSchedule = false;
    const keep = loader.sync(p.requests, p.urgent);
    for (const d of p.draw) keep.add(tileKey(d.level, d.t, d.z, d.ty, d.tx));
    for (const e of cache.entries.values()) if (keep.has(e.key)) cache.touch(e);
    cache.trim(keep);
  }

  #frame() {
    this.#frameRequested = false;
    const src = this.#source, s = this.#state, cache = this.#cache, loader = this.#loader, renderer = this.#renderer;
    if (!src || !s || !cache || !loader || !renderer || this.#destroyed) return;
    const t0 = performance.now();
    const schedule = this.#needSchedule && !this.#withdrawn;
    const p = this.#plan(schedule);
    if (schedule) this.#schedule(p);
    // The canvas keeps its last frame (preserveDrawingBuffer): drawing the same tiles with the same
    // settings again would add nothing but a whole software-GL frame (100-300 ms of CPU). So a Z or T
    // jump keeps the plane on screen as its stand-in without a frame until the new plane has tiles.
    const tiles = p.draw.map((d) => tileKey(d.level, d.t, d.z, d.ty, d.tx)).join(' ');
    const settings = this.#renderSettings(s);
    if (tiles && tiles === this.#shownTiles && settings === this.#shownSettings) {
      loader.holdAhead(false);
      this.#complete = (p.complete || this.#withdrawn) && !this.#frameRequested;
      if (this.#complete) this.#idle();
      return;
    }
    // A frame still waiting for tiles is not queued behind one the GPU has not finished: on a software
    // GL (SwiftShader) a frame takes the CPU for 100-300 ms, and the frame completing a Z step waited
    // behind such intermediate pictures. Nor is it drawn over a picture that covers the view, with the
    // same settings, while every chunk the view still needs is already being decoded: the complete
    // frame follows within those decodes (a coarse cover drawn then only delayed it). Tried again next
    // animation frame, with what has arrived by then.
    const waitForDecodes = () => this.#shownCovered && settings === this.#shownSettings && loader.viewInHand();
    if (!p.complete && !this.#withdrawn && (this.#gpuBusy(renderer.gl) || waitForDecodes())) {
      this.stats.framesDeferred++;
      this.#frameRequested = true;
      requestAnimationFrame(() => this.#frame());
      return;
    }
    const list = p.draw.map((d) => cache.get(tileKey(d.level, d.t, d.z, d.ty, d.tx)));
    for (const e of list) cache.touch(e);
    const visible = s.channels.reduce((n, c) => n + (c.visible ? 1 : 0), 0);
    if (visible > renderer.maxChannels && !this.#capWarned) {
      this.#capWarned = true;
      this.showMessage('channels', `${visible} channels are visible, but this browser's WebGL draws at most ` +
        `${renderer.maxChannels} at once: only the first ${renderer.maxChannels} visible channels are drawn.`);
    } else if (visible <= renderer.maxChannels && this.#capWarned) {
      this.#capWarned = false;
      this.clearMessage('channels');
    }
    this.#lastDraw = () => renderer.draw(list, src, s.view, s.channels, s.blend, this.#dpr);
    if (!this.#paced(p, tiles)) return;
    this.#redrawWanted = false;
    // Timed (a read that waits for the GPU) only after user shader code changed, and only once the
    // view is complete: while tiles arrive each wait held the main thread, and with it the next
    // requests and decodes, for a whole software-GL frame (bench/viewer: 0.5-1.3 s of the first view's frames).
    const draws = this.#timedFrames > 0 && p.complete
      ? this.#timeFrame(this.#lastDraw, () => renderer.draw(list, src, s.view, s.channels, s.blend, this.#dpr, true))
      : this.#lastDraw();
    const gl = renderer.gl;
    if (this.#lastFrameSync) gl.deleteSync(this.#lastFrameSync);
    this.#lastFrameSync = gl.fenceSync(gl.SYNC_GPU_COMMANDS_COMPLETE, 0);
    this.#releaseAhead();
    this.#shownTiles = tiles;
    this.#shownSettings = settings;
    this.#shownCovered = tiles !== '' && p.uncovered === 0;
    const top = p.draw[p.draw.length - 1];
    this.#shownPlane = top ? [top.t, top.z] : null;
    this.stats.frames++;
    if (p.uncovered) this.stats.framesUncovered++;
    this.stats.tileDraws += draws;
    this.stats.lastFrameMs = performance.now() - t0;
    this.stats.level = p.level;
    this.#complete = (p.complete || this.#withdrawn) && !this.#frameRequested;
    // Once: after the first view, not competing with it; their links are waited for when the page is
    // next idle, not by the first settings change.
    if (this.#complete && renderer.buildLaterPrograms()) {
      const whenIdle = window.requestIdleCallback || ((/** @type {() => void} */ f) => setTimeout(f, 100));
      whenIdle(() => { if (!this.#destroyed) renderer.finishLaterPrograms(); }, { timeout: 2000 });
    }
    this.emit('frame', { complete: p.complete, level: p.level, draws, uncovered: p.uncovered, ms: this.stats.lastFrameMs });
    if (this.#complete) this.#firstView = false;
    if (isTracing()) {
      measure('draw', t0, { draws, level: p.level });
      if (this.#complete) firstViewDone();
    }
    if (this.#complete) this.#idle();
  }

  #idle() {
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
    this.emit('idle', this.stats);
  }

  /**
   * Everything besides the tiles that decides the picture: view, channels, blend, shader and its
   * controls, user colormaps and blends, canvas size.
   * @param {ViewerState} s
   */
  #renderSettings(s) {
    return JSON.stringify([s.view, s.channels, s.blend, this.#shader && this.#shader.code, this.#controlValues,
      [...this.#colormapDefs], [...this.#blendDefs], this.canvas.width, this.canvas.height, this.#dpr]);
  }

  /** Let chunks loaded ahead decode again (see invalidate) once the GPU has drawn the last frame. */
  #releaseAhead() {
    if (this.#releasing || !this.#loader || !this.#loader.aheadHeld) return;
    const check = () => {
      const loader = this.#loader, renderer = this.#renderer;
      if (!loader || !renderer || this.#destroyed) { this.#releasing = false; return; }
      if (this.#gpuBusy(renderer.gl)) { requestAnimationFrame(check); return; }
      this.#releasing = false;
      loader.holdAhead(false);
    };
    this.#releasing = true;
    check();
  }

  /**
   * True while the GPU is still drawing the last frame submitted (never waits for it).
   * @param {WebGL2RenderingContext} gl
   */
  #gpuBusy(gl) {
    const sync = this.#lastFrameSync;
    if (!sync) return false;
    if (gl.getSyncParameter(sync, gl.SYNC_STATUS) !== gl.SIGNALED) return true;
    gl.deleteSync(sync);
    this.#lastFrameSync = null;
    return false;
  }

  /**
   * Whether this frame is drawn. While the first view loads, chunks arrive one after another and each
   * frame is a whole-canvas composite, on the CPU with a software GL, competing with the decodes for
   * the same cores (bench/viewer). Frames asked for only by arrived chunks are drawn when they show
   * something new: the first that has anything, coarse stand-ins as they cover more, then once per
   * quarter of the view's tiles, then the complete view. Any other change is drawn at once.
   * @param {ReturnType<typeof plan>} p
   * @param {string} tiles the frame's tile keys (compared with what the canvas shows)
   */
  #paced(p, tiles) {
    if (!this.#firstView || p.complete || this.#withdrawn) return true;
    const s = this.#s();
    const state = this.#tileState(this.#visibleIndices());
    const ready = p.target.filter(({ ty, tx }) => state({ level: p.level, t: s.t, z: s.z, ty, tx }) !== MISSING).length;
    const step = p.uncovered ? -1 : Math.floor(4 * ready / Math.max(1, p.target.length));
    // Nothing drawn yet and nothing to draw: the canvas is as created, black like an empty frame.
    const draw = this.#redrawWanted ? tiles !== '' || this.stats.frames > 0
      : tiles !== this.#shownTiles && (p.uncovered > 0 || step > this.#shownStep);
    if (draw) this.#shownStep = step;
    return draw;
  }

  /**
   * Milliseconds per tile of `draw`, to the end of the GPU's work (a one-pixel read waits for it).
   * @param {() => number} draw
   */
  #timeDraw(draw) {
    const gl = /** @type {Renderer} */ (this.#renderer).gl;
    const t0 = performance.now();
    const draws = draw();
    gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, new Uint8Array(4));
    return draws > 0 ? (performance.now() - t0) / draws : Infinity;
  }

  /**
   * Draw and time one of the first frames after a change to user shader code; say so when it is far
   * slower than the built-in compositing of the same tiles, drawn and timed just before it (then drawn
   * over: never shown). Timing both in the same moment keeps a busy machine from passing for a slow
   * shader. Returns the tiles drawn.
   * @param {() => number} draw
   * @param {() => number} builtin
   */
  #timeFrame(draw, builtin) {
    let draws = 0;
    const reference = this.#timeDraw(builtin);
    const ms = this.#timeDraw(() => (draws = draw()));
    if (!draws) return 0;
    this.#timedFrames--;
    if (ms < this.#userMs) { this.#userMs = ms; this.#builtinMs = reference; } // the least loaded pair
    this.stats.shaderFrameMs = this.#userMs;
    this.stats.builtinFrameMs = Number.isFinite(this.#builtinMs) ? this.#builtinMs : 0;
    // A verdict from the first frame on (an idle view draws just one), revised by the next ones.
    if (Number.isFinite(this.#builtinMs) && this.#userMs > this.#builtinMs * SLOW_FACTOR + SLOW_MARGIN_MS) {
      this.showMessage('shader-slow', `The custom shader takes about ${this.#userMs.toFixed(0)} ms per tile drawn, the built-in ` +
        `compositing ${this.#builtinMs.toFixed(1)} ms: the view may be slow. Simplify it, or go back to the built-in (setShader(null)).`);
    } else this.clearMessage('shader-slow');
    return draws;
  }

  /** Resolves when every visible tile at the target level is drawn with the current settings. */
  whenIdle() {
    return this.ready.then(() => /** @type {Promise<void>} */ (new Promise((resolve) => {
      if (this.#complete && !this.#frameRequested) resolve();
      else { this.#idleWaiters.push(resolve); this.#requestFrame(); }
    })));
  }

  /**
   * The image was withdrawn while open: say so once, stop loading, keep what is drawn under the notice.
   * @param {Error} err
   */
  #withdraw(err) {
    if (this.#withdrawn) return;
    this.#withdrawn = true;
    if (this.#loader) this.#loader.sync([]);
    this.clearMessage('tile');
    const reason = (err.message.match(/HTTP 410 - (.*?)(?: \(http[^)]*\))?$/) || [])[1];
    this.showMessage('withdrawn', `This image was withdrawn: the server no longer serves it${reason ? ` (${reason})` : ''}.`);
    this.emit('error', { kind: 'withdrawn', message: err.message });
    this.invalidate();
  }

  // ---- readout and export ---------------------------------------------------------------------

  /**
   * Raw values of every channel at level-0 pixel (x, y), from the finest resident tile; null if none.
   * @param {number} x
   * @param {number} y
   * @returns {Array<{value: number, level: number} | null> | null}
   */
  valuesAt(x, y) {
    const src = this.#source, s = this.#state, cache = this.#cache, renderer = this.#renderer;
    if (!src || !s || !cache || !renderer || x < 0 || y < 0 || x >= src.width || y >= src.height) return null;
    const { z, t } = s;
    /** @type {Array<{value: number, level: number} | null>} */
    const out = new Array(src.sizeC).fill(null);
    for (let c = 0; c < src.sizeC; c++) {
      for (let L = 0; L < src.levels.length; L++) {
        const lv = src.levels[L];
        const px = Math.floor(x / lv.downsample), py = Math.floor(y / lv.downsample);
        const e = cache.get(tileKey(L, t, z, Math.floor(py / lv.chunk.y), Math.floor(px / lv.chunk.x)));
        if (e && e.texture && e.state[c] === READY) {
          out[c] = { value: renderer.readTexel(e.texture, e.slot[c], px % lv.chunk.x, py % lv.chunk.y), level: L };
          break;
        }
      }
    }
    return out;
  }

  /**
   * The current view as a PNG Blob.
   * @returns {Promise<Blob | null>}
   */
  async exportPNG() {
    await this.whenIdle();
    return new Promise((resolve) => this.canvas.toBlob(resolve, 'image/png'));
  }

  destroy() {
    this.#destroyed = true;
    if (this.#movingTimer) clearTimeout(this.#movingTimer);
    if (this.#loader) this.#loader.destroy();
    if (this.#resizeObserver) this.#resizeObserver.disconnect();
    if (this.#pool) this.#pool.destroy();
    if (this.#cache) this.#cache.destroy();
    this.root.remove();
  }
}
