// The viewer core: state (view, Z, T, channel settings), tile loading, drawing, idle tracking.
// UI modules talk to it only through its public methods and events.
import { openImage, fetchChunk, planeInChunk, StoreError } from './zarr.js';
import { DecodePool } from './decode-pool.js';
import { TextureCache, tileKey, NONE, LOADING, READY, FAILED } from './texture-cache.js';
import { Renderer, WebGLUnavailable } from './renderer.js';
import { chooseLevel, viewRect, tilesInRect, neighbours } from './scheduler.js';
import { COLORMAPS, BLENDS } from './shader-builder.js';

function cloneChannel(ch) {
  return { color: ch.color, window: [ch.window[0], ch.window[1]], visible: ch.visible, gamma: ch.gamma,
    invert: ch.invert, colormap: ch.colormap };
}

export class Viewer {
  constructor(element, options = {}) {
    this.options = { maxRequests: 12, budgetMB: 512, prefetchZ: 10, prefetchT: 1, margin: 1, ...options };
    this.listeners = new Map();
    this.stats = { requests: 0, requestsAborted: 0, requestsFailed: 0, chunksMissing: 0, bytesFetched: 0,
      uploads: 0, uploadBytes: 0, evictions: 0, frames: 0, tileDraws: 0, zSteps: 0, zStepsResident: 0,
      tSteps: 0, tStepsResident: 0, lastFrameMs: 0, decodeMs: 0, decodeWorkMs: 0, decoded: 0, peakInflight: 0 };
    this.source = null;
    this.state = null;
    this.inflight = new Map();
    this.idleWaiters = [];
    this.complete = false;
    this.frameRequested = false;
    this.needSchedule = true;
    this.zDir = 1;
    this.tDir = 1;
    this.waiting = 0;
    this.destroyed = false;

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

    this.ready = this._open().catch((err) => {
      this.error = err;
      if (this.pool) { this.pool.destroy(); this.pool = null; }
      const kind = err instanceof WebGLUnavailable ? 'webgl' : err instanceof StoreError ? 'store' : 'error';
      this.showMessage(kind, err.message);
      this.emit('error', { kind, message: err.message });
      throw err;
    });
    this.ready.catch(() => {});
  }

  async _open() {
    this.renderer = new Renderer(this.canvas);
    if (!this.options.source) throw new StoreError('No image source given.');
    // Workers start while the metadata is read; their codec is compiled as soon as it is known.
    this.pool = new DecodePool();
    const source = await openImage(this.options.source, { token: this.options.token || null, image: this.options.image || null });
    if (this.destroyed) return;
    this.source = source;
    this.pool.warm(source.levels[0].compressor);
    this.cache = new TextureCache(this.renderer.gl, { channels: source.sizeC, dtype: source.dtype,
      budgetBytes: this.options.budgetMB * 1024 * 1024, stats: this.stats });
    this.defaults = source.channels.map(cloneChannel);
    this.state = {
      view: { center: [source.width / 2, source.height / 2], zoom: 1 },
      z: source.defaultZ, t: source.defaultT, blend: 'additive',
      channels: source.channels.map(cloneChannel),
    };
    this._resizeCanvas();
    this.fit({ silent: true });
    if (this.options.initialState) {
      // A hand-edited or stale link must not stop the image from opening: say what was ignored.
      try { this.setState(this.options.initialState, { silent: true }); } catch (err) {
        this.showMessage('state', `Part of the saved view state was ignored: ${err.message}`);
      }
    }
    this.resizeObserver = new ResizeObserver(() => { this._resizeCanvas(); this.invalidate(true); });
    this.resizeObserver.observe(this.stage);
    this.emit('open', source);
    this.invalidate(true);
  }

  // ---- events -------------------------------------------------------------------------------

  /** Call `fn(detail)` on `event`: 'open', 'view', 'state', 'idle', 'error', 'pointer', 'message'. */
  on(event, fn) {
    if (!this.listeners.has(event)) this.listeners.set(event, new Set());
    this.listeners.get(event).add(fn);
    return () => this.listeners.get(event).delete(fn);
  }

  emit(event, detail) {
    for (const fn of this.listeners.get(event) || []) {
      try { fn(detail); } catch (err) { console.error(err); }
    }
  }

  showMessage(kind, text) {
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

  clearMessage(kind) {
    const el = this.messages.querySelector(`[data-kind="${kind}"]`);
    if (el) el.remove();
  }

  // ---- state ----------------------------------------------------------------------------------

  /** {view: {center, zoom}, z, t, blend, channels: [...]}, a copy. */
  getState() {
    const s = this.state;
    if (!s) return null;
    return { view: { center: [...s.view.center], zoom: s.view.zoom }, z: s.z, t: s.t, blend: s.blend,
      channels: s.channels.map(cloneChannel) };
  }

  /** Apply any part of a state object (as getState returns). */
  setState(state, { silent = false } = {}) {
    if (state.view) this.setView(state.view, { silent: true });
    if (Number.isFinite(state.z)) this.setZ(state.z, { silent: true });
    if (Number.isFinite(state.t)) this.setT(state.t, { silent: true });
    if (state.blend) this.setBlend(state.blend, { silent: true });
    (state.channels || []).forEach((ch, i) => { if (ch && i < this.state.channels.length) this.setChannel(i, ch, { silent: true }); });
    if (!silent) { this.emit('view', this.getState().view); this.emit('state', this.getState()); }
  }

  /** Change channel i's settings; fields left out keep their value. No request, no upload. */
  setChannel(i, settings, { silent = false } = {}) {
    const ch = this.state.channels[i];
    if (!ch) throw new RangeError(`no channel ${i} (the image has ${this.state.channels.length})`);
    if (settings.color !== undefined) {
      if (!/^#[0-9a-fA-F]{6}$/.test(settings.color)) throw new TypeError(`color must be "#rrggbb", got ${settings.color}`);
      ch.color = settings.color.toLowerCase();
    }
    if (settings.window !== undefined) ch.window = [Number(settings.window[0]), Number(settings.window[1])];
    if (settings.gamma !== undefined) ch.gamma = Number(settings.gamma);
    if (settings.invert !== undefined) ch.invert = Boolean(settings.invert);
    if (settings.colormap !== undefined) {
      if (!COLORMAPS.includes(settings.colormap)) throw new TypeError(`unknown colormap ${settings.colormap} (have ${COLORMAPS.join(', ')})`);
      ch.colormap = settings.colormap;
    }
    if (settings.visible !== undefined && Boolean(settings.visible) !== ch.visible) {
      ch.visible = Boolean(settings.visible);
      this.needSchedule = true; // a newly shown channel may need tiles
    }
    this.invalidate();
    if (!silent) this.emit('state', this.getState());
  }

  setBlend(name, { silent = false } = {}) {
    if (!BLENDS.includes(name)) throw new TypeError(`unknown blend mode ${name} (have ${BLENDS.join(', ')})`);
    this.state.blend = name;
    this.invalidate();
    if (!silent) this.emit('state', this.getState());
  }

  /** Restore every channel to the store's default rendering settings. */
  resetChannels() {
    this.defaults.forEach((d, i) => this.setChannel(i, d, { silent: true }));
    this.emit('state', this.getState());
  }

  _stepResident(z, t) {
    const need = this._targetTiles();
    const channels = this._visibleIndices();
    return need.every(({ ty, tx }) => this.cache.isReady(this.cache.get(tileKey(need.level, t, z, ty, tx)), channels));
  }

  setZ(z, { silent = false } = {}) {
    z = Math.max(0, Math.min(this.source.sizeZ - 1, Math.round(z)));
    if (z === this.state.z) return;
    // Only steps teach the direction: a jump (slider, API) says nothing about where the user goes next.
    if (Math.abs(z - this.state.z) <= 2) this.zDir = z > this.state.z ? 1 : -1;
    this.stats.zSteps++;
    if (this._stepResident(z, this.state.t)) this.stats.zStepsResident++;
    this.state.z = z;
    this.invalidate(true);
    if (!silent) this.emit('state', this.getState());
  }

  setT(t, { silent = false } = {}) {
    t = Math.max(0, Math.min(this.source.sizeT - 1, Math.round(t)));
    if (t === this.state.t) return;
    if (Math.abs(t - this.state.t) <= 2) this.tDir = t > this.state.t ? 1 : -1;
    this.stats.tSteps++;
    if (this._stepResident(this.state.z, t)) this.stats.tStepsResident++;
    this.state.t = t;
    this.invalidate(true);
    if (!silent) this.emit('state', this.getState());
  }

  /** center: level-0 pixel [x, y] at the canvas centre; zoom: CSS pixels per level-0 pixel. */
  setView({ center, zoom }, { silent = false } = {}) {
    const v = this.state.view;
    if (center) v.center = [Number(center[0]), Number(center[1])];
    if (zoom) v.zoom = Math.max(this.minZoom(), Math.min(64, Number(zoom)));
    this.invalidate(true);
    if (!silent) { this.emit('view', this.getState().view); this.emit('state', this.getState()); }
  }

  minZoom() {
    const s = this.source;
    return Math.min(1, 0.25 * Math.min(this.cssWidth / s.width, this.cssHeight / s.height));
  }

  /** Fit the whole plane in the canvas, centred. */
  fit({ silent = false } = {}) {
    const s = this.source;
    const zoom = Math.min(this.cssWidth / s.width, this.cssHeight / s.height);
    this.setView({ center: [s.width / 2, s.height / 2], zoom }, { silent });
  }

  /** Zoom by `factor` keeping level-0 point under canvas CSS position (sx, sy) fixed. */
  zoomAt(factor, sx, sy) {
    const v = this.state.view;
    const p = this.screenToImage(sx, sy);
    const zoom = Math.max(this.minZoom(), Math.min(64, v.zoom * factor));
    const center = [p[0] - (sx - this.cssWidth / 2) / zoom, p[1] - (sy - this.cssHeight / 2) / zoom];
    this.setView({ center, zoom });
  }

  panBy(dx, dy) {
    const v = this.state.view;
    this.setView({ center: [v.center[0] - dx / v.zoom, v.center[1] - dy / v.zoom] });
  }

  screenToImage(sx, sy) {
    const v = this.state.view;
    return [v.center[0] + (sx - this.cssWidth / 2) / v.zoom, v.center[1] + (sy - this.cssHeight / 2) / v.zoom];
  }

  // ---- frames ---------------------------------------------------------------------------------

  _resizeCanvas() {
    const dpr = window.devicePixelRatio || 1;
    const r = this.stage.getBoundingClientRect();
    this.cssWidth = Math.max(1, Math.round(r.width));
    this.cssHeight = Math.max(1, Math.round(r.height));
    this.dpr = dpr;
    this.canvas.width = Math.round(this.cssWidth * dpr);
    this.canvas.height = Math.round(this.cssHeight * dpr);
  }

  /** Ask for a redraw next frame (and a new loading plan when `schedule`). */
  invalidate(schedule = false) {
    if (schedule) this.needSchedule = true;
    this.complete = false;
    if (this.frameRequested || this.destroyed) return;
    this.frameRequested = true;
    requestAnimationFrame((t) => this._frame(t));
  }

  _visibleIndices() {
    const out = [];
    this.state.channels.forEach((c, i) => { if (c.visible) out.push(i); });
    return out;
  }

  /** Tiles the current view shows at its level, with `.level` and `.rect` (the level-0 view rectangle). */
  _targetTiles() {
    const level = chooseLevel(this.source, this.state.view.zoom, this.dpr);
    const rect = viewRect(this.state.view, this.cssWidth, this.cssHeight);
    const tiles = tilesInRect(this.source, level, rect, 0);
    tiles.level = level;
    tiles.rect = rect;
    return tiles;
  }

  _frame() {
    this.frameRequested = false;
    if (!this.source || this.destroyed) return;
    const t0 = performance.now();
    const { z, t } = this.state;
    const channels = this._visibleIndices();
    const target = this._targetTiles();
    const { level, rect } = target;
    if (this.needSchedule && !this.withdrawn) { this.needSchedule = false; this._schedule(target, channels); }

    // Draw list: for each target tile, itself when ready, else the nearest ready coarser tile under it.
    const drawn = new Map();
    let complete = true;
    const lv = this.source.levels[level];
    const tw = lv.chunk.x * lv.downsample, th = lv.chunk.y * lv.downsample;
    for (const { ty, tx } of target) {
      const e = this.cache.get(tileKey(level, t, z, ty, tx));
      if (e && e.texture && this.cache.isReady(e, channels)) { drawn.set(e.key, e); continue; }
      // A tile whose channels all failed is settled (its message is shown): it keeps the coarser
      // stand-in below but does not hold whenIdle() forever.
      if (!this.cache.isReady(e, channels)) complete = false;
      const tileRect = [tx * tw, ty * th, Math.min(rect[2], (tx + 1) * tw), Math.min(rect[3], (ty + 1) * th)];
      for (let L = level + 1; L < this.source.levels.length; L++) {
        const cover = tilesInRect(this.source, L, tileRect, 0)
          .map((c) => this.cache.get(tileKey(L, t, z, c.ty, c.tx)));
        if (cover.every((c) => c && c.texture && this.cache.isReady(c, channels))) {
          for (const c of cover) drawn.set(c.key, c);
          break;
        }
      }
    }
    const list = [...drawn.values()].sort((a, b) => b.level - a.level);
    for (const e of list) this.cache.touch(e);
    const draws = this.renderer.draw(list, this.source, this.state.view,
      this.state.channels.map((c, index) => ({ ...c, index })), this.state.blend, this.dpr);
    this.stats.frames++;
    this.stats.tileDraws += draws;
    this.stats.lastFrameMs = performance.now() - t0;
    this.stats.level = level;
    this.complete = (complete || Boolean(this.withdrawn)) && !this.frameRequested;
    this.emit('frame', { complete, level, draws, ms: this.stats.lastFrameMs });
    if (this.complete) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
      this.emit('idle', this.stats);
    }
  }

  /** True when the view is complete and nothing it wants (margin, Z/T prefetch) is loading or waiting. */
  get settled() {
    return this.complete && !this.needSchedule && this.inflight.size === 0 && this.waiting === 0;
  }

  /** Resolves when every visible tile at the target level is drawn with the current settings. */
  whenIdle() {
    return this.ready.then(() => new Promise((resolve) => {
      if (this.complete && !this.frameRequested) resolve();
      else { this.idleWaiters.push(resolve); this.invalidate(); }
    }));
  }

  // ---- loading --------------------------------------------------------------------------------

  _plan(target, channels) {
    const { z, t } = this.state;
    const src = this.source;
    const plan = [];
    const add = (level, tt, zz, tiles) => {
      for (const { ty, tx } of tiles) for (const c of channels) plan.push({ level, t: tt, z: zz, ty, tx, c });
    };
    const rect = target.rect;
    const coarsest = src.levels.length - 1;
    // The coarsest level first: a few small chunks that cover the whole view, so nothing is ever blank.
    if (coarsest !== target.level) add(coarsest, t, z, tilesInRect(src, coarsest, rect, 0));
    add(target.level, t, z, target);
    const margin = tilesInRect(src, target.level, rect, this.options.margin).filter((x) => x.ring > 0);
    const visibleDone = target.every(({ ty, tx }) => this.cache.isReady(this.cache.get(tileKey(target.level, t, z, ty, tx)), channels));
    if (!visibleDone) { add(target.level, t, z, margin); return plan; }
    // Once the view is complete: neighbouring planes at the current level, the next one in the
    // direction of the last step before the pan margin, since stepping through Z must never go blank.
    // Depth is bounded so that the prefetched planes take at most half the texture budget.
    const planeBytes = Math.max(1, target.length * this.cache.channels * this.cache.tileBytes(target.level, src));
    const fit = Math.max(1, Math.floor(this.cache.budgetBytes / 2 / planeBytes) - 1);
    const zs = neighbours(z, src.sizeZ, Math.min(this.options.prefetchZ, fit), this.zDir);
    const ts = neighbours(t, src.sizeT, Math.min(this.options.prefetchT, fit), this.tDir);
    if (zs.length) add(target.level, t, zs[0], target);
    add(target.level, t, z, margin);
    for (const zz of zs.slice(1)) add(target.level, t, zz, target);
    for (const tt of ts) add(target.level, tt, z, target);
    return plan;
  }

  _schedule(target, channels) {
    const plan = this._plan(target, channels);
    const wanted = new Set();
    const keep = new Set();
    for (const p of plan) { wanted.add(`${tileKey(p.level, p.t, p.z, p.ty, p.tx)}#${p.c}`); keep.add(tileKey(p.level, p.t, p.z, p.ty, p.tx)); }
    for (const [key, req] of this.inflight) {
      if (!wanted.has(key)) { req.controller.abort(); this.inflight.delete(key); req.entry.state[req.c] = NONE; this.stats.requestsAborted++; }
    }
    let waiting = 0;
    for (const p of plan) {
      const lv = this.source.levels[p.level];
      const e = this.cache.entry(p.level, p.t, p.z, p.ty, p.tx, lv.chunk.x, lv.chunk.y);
      if (e.state[p.c] !== NONE) continue;
      if (this.inflight.size >= this.options.maxRequests) { waiting++; continue; }
      this._load(e, p.c);
    }
    this.waiting = waiting;
    for (const e of this.cache.entries.values()) if (keep.has(e.key)) this.cache.touch(e);
    this.cache.trim(keep);
  }

  async _load(e, c) {
    const key = `${e.key}#${c}`;
    const controller = new AbortController();
    this.inflight.set(key, { controller, entry: e, c });
    this.stats.peakInflight = Math.max(this.stats.peakInflight, this.inflight.size);
    e.state[c] = LOADING;
    this.stats.requests++;
    const lv = this.source.levels[e.level];
    try {
      const bytes = await fetchChunk(this.source, e.level, e.t, c, e.z, e.ty, e.tx, controller.signal);
      let pixels = null;
      if (bytes === null) this.stats.chunksMissing++;
      else {
        this.stats.bytesFetched += bytes.byteLength;
        const t0 = performance.now();
        const out = await this.pool.decode(bytes, lv.compressor, lv.dtype, lv.chunk.x * lv.chunk.y,
          lv.planes, planeInChunk(this.source, e.level, e.t, c, e.z));
        pixels = out.pixels;
        this.stats.decodeMs += performance.now() - t0; // queue + decode, as the tile waited
        this.stats.decodeWorkMs += out.ms; // the decode itself, in a worker
        this.stats.decoded++;
      }
      if (controller.signal.aborted || this.destroyed || this.cache.get(e.key) !== e) return;
      this.cache.store(e, c, pixels, lv.fill);
    } catch (err) {
      if (err.name === 'AbortError' || controller.signal.aborted) return;
      if (this.destroyed || this.cache.get(e.key) !== e) return;
      e.state[c] = FAILED;
      if (/\bHTTP 410\b/.test(err.message)) { this._withdrawn(err); return; }
      this.stats.requestsFailed++;
      this.showMessage('tile', `${this.stats.requestsFailed} tile${this.stats.requestsFailed > 1 ? 's' : ''} failed to load: ${err.message}`);
      this.emit('error', { kind: 'tile', message: err.message });
    } finally {
      if (this.inflight.get(key)?.controller === controller) this.inflight.delete(key);
    }
    this.invalidate(true);
  }

  /** The image was withdrawn while open: say so once, stop loading, keep what is drawn under the notice. */
  _withdrawn(err) {
    if (this.withdrawn) return;
    this.withdrawn = true;
    for (const req of this.inflight.values()) req.controller.abort();
    this.inflight.clear();
    this.clearMessage('tile');
    const reason = (err.message.match(/HTTP 410 - (.*?)(?: \(http[^)]*\))?$/) || [])[1];
    this.showMessage('withdrawn', `This image was withdrawn: the server no longer serves it${reason ? ` (${reason})` : ''}.`);
    this.emit('error', { kind: 'withdrawn', message: err.message });
    this.invalidate();
  }

  // ---- readout and export ---------------------------------------------------------------------

  /** Raw values of every channel at level-0 pixel (x, y), from the finest resident tile; null if none. */
  valuesAt(x, y) {
    const src = this.source;
    if (!src || x < 0 || y < 0 || x >= src.width || y >= src.height) return null;
    const { z, t } = this.state;
    const out = new Array(src.sizeC).fill(null);
    for (let c = 0; c < src.sizeC; c++) {
      for (let L = 0; L < src.levels.length; L++) {
        const lv = src.levels[L];
        const px = Math.floor(x / lv.downsample), py = Math.floor(y / lv.downsample);
        const e = this.cache.get(tileKey(L, t, z, Math.floor(py / lv.chunk.y), Math.floor(px / lv.chunk.x)));
        if (e && e.texture && e.state[c] === READY) {
          out[c] = { value: this.renderer.readTexel(e.texture, c, px % lv.chunk.x, py % lv.chunk.y), level: L };
          break;
        }
      }
    }
    return out;
  }

  /** The current view as a PNG Blob. */
  async exportPNG() {
    await this.whenIdle();
    return new Promise((resolve) => this.canvas.toBlob(resolve, 'image/png'));
  }

  destroy() {
    this.destroyed = true;
    for (const req of this.inflight.values()) req.controller.abort();
    this.inflight.clear();
    if (this.resizeObserver) this.resizeObserver.disconnect();
    if (this.pool) this.pool.destroy();
    if (this.cache) this.cache.destroy();
    this.root.remove();
  }
}
