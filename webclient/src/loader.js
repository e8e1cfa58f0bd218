// @ts-check
// The tile loader: chunk requests in flight (at most `maxRequests`), their cancellation when the plan
// no longer wants them, decoding in the worker pool (a few at a time, most wanted first) and the upload
// into the texture cache.
import { fetchChunk, planeInChunk } from './zarr.js';
import { tileKey, NONE, LOADING } from './texture-cache.js';
import { measure } from './trace.js';

/** @typedef {import('./types.js').ImageSource} ImageSource */
/** @typedef {import('./types.js').ChunkRequest} ChunkRequest */

/**
 * @typedef {object} LoaderHooks
 * @property {(entry: any) => void} onSettled a request of this cache entry finished (loaded, absent or
 *   failed): maybe time to redraw and replan
 * @property {(err: Error) => void} onError a request failed (not aborted); counted by the caller
 */

export class TileLoader {
  /** Requests being fetched or decoded. @type {Map<string, {controller: AbortController, entry: any, c: number, fetching: boolean}>} */
  #inflight = new Map();
  // Only fetches hold one of the `maxRequests` slots: a chunk whose bytes are in frees its slot for
  // the next while it decodes, so the network never waits on the decoders (bench/viewer first view).
  #fetching = 0;
  /** The last plan's requests, followed as slots free up without waiting for the next frame. @type {ChunkRequest[]} */
  #plan = [];
  /** Each wanted request's place in the last plan ("key#c" -> index). @type {Map<string, number>} */
  #rank = new Map();
  #waiting = 0;
  /** How many of the plan's requests, from the first, are for the view itself. */
  #urgent = 0;
  // Decodes handed to the pool. A chunk for the view goes to the pool as soon as its bytes are in; a
  // chunk loaded ahead of need (margin, prefetch) only while fewer than `maxDecodes` are decoding, else
  // it waits here and goes in the plan's order. Posted to the workers at once, the prefetch of the old
  // plane's neighbours sat queued there (decoded, then thrown away) ahead of a Z jump's new plane.
  #decoding = 0;
  // While set, chunks loaded ahead wait here for their decode (the view's own still go at once).
  #holdAhead = false;
  /** @type {Array<{key: string, req: {controller: AbortController}, go: () => void, stop: (err: Error) => void}>} */
  #toDecode = [];
  #destroyed = false;

  /**
   * @param {ImageSource} source
   * @param {import('./texture-cache.js').TextureCache} cache
   * @param {{decode: Function, workers?: unknown[]}} pool the decode worker pool
   * @param {Record<string, number>} stats counters shared with the viewer
   * @param {number} maxRequests
   * @param {LoaderHooks} hooks
   */
  constructor(source, cache, pool, stats, maxRequests, hooks) {
    this.source = source;
    this.cache = cache;
    this.pool = pool;
    this.stats = stats;
    this.maxRequests = maxRequests;
    // Two per worker: each has its next chunk at hand when it finishes one.
    this.maxDecodes = 2 * Math.max(1, pool.workers ? pool.workers.length : 2);
    this.hooks = hooks;
  }

  /** Requests in flight, waiting for a decoder or decoding. */
  get size() { return this.#inflight.size; }

  /** Fetched chunks waiting for a decoder. */
  get queued() { return this.#toDecode.length; }

  /**
   * True when every chunk the view itself still needs is in hand and being decoded (none waits for a
   * fetch slot or for its bytes), and at least one is.
   */
  viewInHand() {
    let decoding = 0;
    for (let i = 0; i < this.#urgent && i < this.#plan.length; i++) {
      const p = this.#plan[i];
      const e = this.cache.get(tileKey(p.level, p.t, p.z, p.ty, p.tx));
      const state = e ? e.state[p.c] : NONE;
      if (state === NONE) return false;
      if (state !== LOADING) continue;
      const req = this.#inflight.get(`${e.key}#${p.c}`);
      if (!req || req.fetching) return false;
      decoding++;
    }
    return decoding > 0;
  }

  /** Requests the last plan wanted that wait for a free slot. */
  get waiting() { return this.#waiting; }

  /** Whether chunks loaded ahead are held (see holdAhead). */
  get aheadHeld() { return this.#holdAhead; }

  /**
   * Hold (or release) the decodes of chunks loaded ahead of need (margin, prefetch): the viewer holds
   * them while the frame of a settings change is pending, so that on a software GL the decoders do not
   * take the cores that frame is drawn on. Decodes already started finish.
   * @param {boolean} on
   */
  holdAhead(on) {
    if (this.#holdAhead === on) return;
    this.#holdAhead = on;
    if (!on) this.#startWaiting();
  }

  /**
   * Follow a plan: abort what it no longer wants, start what it wants in its order while slots are
   * free (and later, as they free up). Returns the tile keys the plan touches (to keep them in the cache).
   * @param {ChunkRequest[]} requests
   * @param {number} [urgent] how many of `requests`, from the first, are for the view itself
   * @returns {Set<string>}
   */
  sync(requests, urgent = requests.length) {
    const wanted = new Set();
    const keep = new Set();
    for (const p of requests) {
      const key = tileKey(p.level, p.t, p.z, p.ty, p.tx);
      keep.add(key);
      wanted.add(`${key}#${p.c}`);
    }
    for (const [key, req] of this.#inflight) {
      if (wanted.has(key)) continue;
      req.controller.abort();
      this.#inflight.delete(key);
      if (req.fetching) { req.fetching = false; this.#fetching--; }
      req.entry.state[req.c] = NONE;
      this.stats.requestsAborted++;
    }
    // Fetched chunks no longer wanted never reach a decoder.
    const stale = this.#toDecode.filter((d) => d.req.controller.signal.aborted);
    this.#toDecode = this.#toDecode.filter((d) => !d.req.controller.signal.aborted);
    for (const d of stale) d.stop(new DOMException('no longer wanted', 'AbortError'));
    this.#plan = requests;
    this.#urgent = urgent;
    this.#rank = new Map();
    requests.forEach((p, i) => {
      const key = `${tileKey(p.level, p.t, p.z, p.ty, p.tx)}#${p.c}`;
      if (!this.#rank.has(key)) this.#rank.set(key, i);
    });
    // Prefetched chunks the view now needs (a step onto the plane they belong to) go to a decoder at once.
    const now = this.#toDecode.filter((d) => (this.#rank.get(d.key) ?? Infinity) < urgent);
    if (now.length) {
      this.#toDecode = this.#toDecode.filter((d) => !now.includes(d));
      for (const d of now) { this.#decoding++; d.go(); }
    }
    this.#fill();
    return keep;
  }

  /**
   * Start the plan's wanted requests, in its order, while fetch slots are free and fewer than
   * `maxRequests` fetched chunks wait for a decoder (fetching further ahead of the decoders would only
   * be thrown away by the next jump).
   */
  #fill() {
    let waiting = 0;
    const full = () => this.#fetching >= this.maxRequests || this.#toDecode.length >= this.maxRequests;
    for (const p of this.#plan) {
      const lv = this.source.levels[p.level];
      const e = this.cache.entry(p.level, p.t, p.z, p.ty, p.tx, lv.chunk.x, lv.chunk.y);
      if (e.state[p.c] !== NONE) continue;
      if (full()) { waiting++; continue; }
      this.#load(e, p.c);
    }
    this.#waiting = waiting;
  }

  /**
   * Resolves when the fetched chunk `key` may go to a decoder: at once if it is for the view or while
   * fewer than `maxDecodes` are decoding, else when it is the most wanted of those waiting. Rejects
   * (AbortError) if the plan drops it first.
   * @param {string} key
   * @param {{controller: AbortController}} req
   * @returns {Promise<void>}
   */
  #decodeTurn(key, req) {
    const rank = this.#rank.get(key) ?? Infinity;
    if (rank < this.#urgent || (!this.#holdAhead && this.#decoding < this.maxDecodes)) { this.#decoding++; return Promise.resolve(); }
    return new Promise((go, stop) => { this.#toDecode.push({ key, req, go, stop }); });
  }

  /** A decode finished: the most wanted chunk waiting takes its place, and a fetch may start. */
  #decodeDone() {
    this.#decoding--;
    this.#startWaiting();
  }

  /** The most wanted chunks waiting for a decoder get one while fewer than `maxDecodes` decode. */
  #startWaiting() {
    if (this.#destroyed || this.#holdAhead || !this.#toDecode.length) return;
    const rank = (/** @type {string} */ key) => this.#rank.get(key) ?? Infinity;
    while (this.#toDecode.length && this.#decoding < this.maxDecodes) {
      let best = 0;
      for (let i = 1; i < this.#toDecode.length; i++) {
        if (rank(this.#toDecode[i].key) < rank(this.#toDecode[best].key)) best = i;
      }
      const [next] = this.#toDecode.splice(best, 1);
      this.#decoding++;
      next.go();
    }
    this.#fill();
  }

  /**
   * A request's bytes are in (or it failed): its slot goes to the next request the plan wants.
   * @param {{controller: AbortController, fetching: boolean}} req
   */
  #fetched(req) {
    if (!req.fetching) return;
    req.fetching = false;
    this.#fetching--;
    if (!this.#destroyed && !req.controller.signal.aborted) this.#fill();
  }

  /**
   * @param {any} e a cache entry
   * @param {number} c
   */
  async #load(e, c) {
    const key = `${e.key}#${c}`;
    const controller = new AbortController();
    const req = { controller, entry: e, c, fetching: true };
    this.#inflight.set(key, req);
    this.#fetching++;
    this.stats.peakInflight = Math.max(this.stats.peakInflight, this.#fetching);
    e.state[c] = LOADING;
    this.stats.requests++;
    const src = this.source;
    const lv = src.levels[e.level];
    try {
      const tFetch = performance.now();
      const bytes = await fetchChunk(src, e.level, e.t, c, e.z, e.ty, e.tx, controller.signal);
      this.#fetched(req);
      let pixels = null;
      if (bytes === null) this.stats.chunksMissing++;
      else {
        this.stats.bytesFetched += bytes.byteLength;
        const t0 = performance.now();
        measure('fetch', tFetch);
        await this.#decodeTurn(key, req);
        let out;
        try {
          out = await this.pool.decode(bytes, lv.compressor, lv.dtype, lv.chunk.x * lv.chunk.y,
            lv.planes, planeInChunk(src, e.level, e.t, c, e.z));
        } finally {
          this.#decodeDone();
        }
        pixels = out.pixels;
        this.stats.decodeMs += performance.now() - t0; // queue + decode, as the tile waited
        this.stats.decodeWorkMs += out.ms; // the decode itself, in a worker
        this.stats.decoded++;
        measure('decode', t0, { work: out.ms });
      }
      if (controller.signal.aborted || this.#destroyed || this.cache.get(e.key) !== e) return;
      const tUpload = performance.now();
      this.cache.store(e, c, pixels, lv.fill);
      measure('upload', tUpload);
    } catch (err) {
      if (/** @type {Error} */ (err).name === 'AbortError' || controller.signal.aborted) return;
      if (this.#destroyed || this.cache.get(e.key) !== e) return;
      this.cache.fail(e, c);
      this.hooks.onError(/** @type {Error} */ (err));
    } finally {
      this.#fetched(req);
      if (this.#inflight.get(key) === req) this.#inflight.delete(key);
    }
    if (!this.#destroyed) this.hooks.onSettled(e);
  }

  /** Abort every request. */
  destroy() {
    this.#destroyed = true;
    this.#plan = [];
    for (const req of this.#inflight.values()) req.controller.abort();
    this.#inflight.clear();
    for (const d of this.#toDecode) d.stop(new DOMException('loader destroyed', 'AbortError'));
    this.#toDecode = [];
  }
}
