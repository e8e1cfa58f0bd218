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
  /** @type {Map<string, {controller: AbortController, entry: any, c: number}>} */
  #inflight = new Map();
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

  /** Requests in flight. */
  get size() { return this.#inflight.size; }

  /** Requests the last plan wanted that wait for a free slot. */
  get waiting() { return this.#waiting; }

  /**
   * Follow a plan: abort what it no longer wants, start what it wants in its order while slots are
   * free. Returns the tile keys the plan touches (to keep them in the cache).
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
      req.entry.state[req.c] = NONE;
      this.stats.requestsAborted++;
    }
    let waiting = 0;
    for (const p of requests) {
      const lv = this.source.levels[p.level];
      const e = this.cache.entry(p.level, p.t, p.z, p.ty, p.tx, lv.chunk.x, lv.chunk.y);
      if (e.state[p.c] !== NONE) continue;
      if (this.#inflight.size >= this.maxRequests) { waiting++; continue; }
      this.#load(e, p.c);
    }
    this.#waiting = waiting;
    return keep;
  }

  /**
   * @param {any} e a cache entry
   * @param {number} c
   */
  async #load(e, c) {
    const key = `${e.key}#${c}`;
    const controller = new AbortController();
    this.#inflight.set(key, { controller, entry: e, c });
    this.stats.peakInflight = Math.max(this.stats.peakInflight, this.#inflight.size);
    e.state[c] = LOADING;
    this.stats.requests++;
    const src = this.source;
    const lv = src.levels[e.level];
    try {
      const tFetch = performance.now();
      const bytes = await fetchChunk(src, e.level, e.t, c, e.z, e.ty, e.tx, controller.signal);
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
      if (this.#inflight.get(key)?.controller === controller) this.#inflight.delete(key);
    }
    if (!this.#destroyed) this.hooks.onSettled();
  }

  /** Abort every request. */
  destroy() {
    this.#destroyed = true;
    for (const req of this.#inflight.values()) req.controller.abort();
    this.#inflight.clear();
  }
}
