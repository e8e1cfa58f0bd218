// @ts-check
// The tile loader: chunk requests in flight (at most `maxRequests`), their cancellation when the plan
// no longer wants them, decoding in the worker pool and the upload into the texture cache.
import { fetchChunk, planeInChunk } from './zarr.js';
import { tileKey, NONE, LOADING, FAILED } from './texture-cache.js';
import { measure } from './trace.js';

/** @typedef {import('./types.js').ImageSource} ImageSource */
/** @typedef {import('./types.js').ChunkRequest} ChunkRequest */

/**
 * @typedef {object} LoaderHooks
 * @property {() => void} onSettled a request finished (loaded, absent or failed): time to redraw and replan
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
  #waiting = 0;
  #destroyed = false;

  /**
   * @param {ImageSource} source
   * @param {import('./texture-cache.js').TextureCache} cache
   * @param {{decode: Function}} pool the decode worker pool
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
    this.hooks = hooks;
  }

  /** Requests in flight or decoding. */
  get size() { return this.#inflight.size; }

  /** Requests the last plan wanted that wait for a free slot. */
  get waiting() { return this.#waiting; }

  /**
   * Follow a plan: abort what it no longer wants, start what it wants in its order while slots are
   * free (and later, as they free up). Returns the tile keys the plan touches (to keep them in the cache).
   * @param {ChunkRequest[]} requests
   * @returns {Set<string>}
   */
  sync(requests) {
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
    this.#plan = requests;
    this.#fill();
    return keep;
  }

  /** Start the plan's wanted requests, in its order, while fetch slots are free. */
  #fill() {
    let waiting = 0;
    for (const p of this.#plan) {
      const lv = this.source.levels[p.level];
      const e = this.cache.entry(p.level, p.t, p.z, p.ty, p.tx, lv.chunk.x, lv.chunk.y);
      if (e.state[p.c] !== NONE) continue;
      if (this.#fetching >= this.maxRequests) { waiting++; continue; }
      this.#load(e, p.c);
    }
    this.#waiting = waiting;
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
        const out = await this.pool.decode(bytes, lv.compressor, lv.dtype, lv.chunk.x * lv.chunk.y,
          lv.planes, planeInChunk(src, e.level, e.t, c, e.z));
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
      e.state[c] = FAILED;
      this.hooks.onError(/** @type {Error} */ (err));
    } finally {
      this.#fetched(req);
      if (this.#inflight.get(key) === req) this.#inflight.delete(key);
    }
    if (!this.#destroyed) this.hooks.onSettled();
  }

  /** Abort every request. */
  destroy() {
    this.#destroyed = true;
    this.#plan = [];
    for (const req of this.#inflight.values()) req.controller.abort();
    this.#inflight.clear();
  }
}
