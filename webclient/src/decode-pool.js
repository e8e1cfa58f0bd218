// A small pool of decode workers: ES modules next to the bundle (dist/worker/, see build.mjs), which
// load the codecs a store uses on first use.
import { measure } from './trace.js';

// Started from a Blob module importing the real URL: a Worker URL must be same-origin with the page,
// and the viewer may be embedded in a page on another origin.
const WORKER_URL = new URL('./worker/decode-worker.js', import.meta.url).href;

/**
 * The workers the viewer page started before the bundle loaded (index.html: they load the store's
 * codec while the viewer script is still on its way), for the first pool that asks; else null.
 */
function earlyWorkers() {
  const early = globalThis.chromatilePreload;
  const workers = early && early.workers;
  if (!workers || !workers.length) return null;
  early.workers = null;
  return { workers, failed: () => early.workersFailed };
}

export class DecodePool {
  // One worker per core (2 to 4): the main thread only fetches, uploads and draws, so decoding may use
  // every core; on a 2-core machine one worker halved the Z-stepping throughput (bench/viewer).
  // index.html starts as many with the same rule.
  constructor(size = Math.max(2, Math.min(4, navigator.hardwareConcurrency || 2))) {
    const early = earlyWorkers();
    const url = early ? null
      : URL.createObjectURL(new Blob([`import ${JSON.stringify(WORKER_URL)};`], { type: 'text/javascript' }));
    this.workers = [];
    this.pending = new Map();
    this.nextId = 1;
    this.load = [];
    this.failed = null;
    this.warmedAt = 0;
    const n = early ? early.workers.length : size;
    for (let i = 0; i < n; i++) {
      const w = early ? early.workers[i] : new Worker(url, { type: 'module' });
      w.onmessage = (e) => this._done(i, e.data);
      // The worker script could not be loaded (404, CORS, offline): every decode would wait forever.
      w.onerror = (e) => { e.preventDefault(); this._fail(`the decode worker did not start (${WORKER_URL})`); };
      this.workers.push(w);
      this.load.push(0);
    }
    if (early && early.failed()) this._fail(`the decode worker did not start (${early.failed()})`);
    // Revoked once the workers have fetched it (a module worker loads its script asynchronously).
    if (url) setTimeout(() => URL.revokeObjectURL(url), 60000);
  }

  /**
   * Decode `bytes` (an ArrayBuffer, transferred), a chunk of `planes` planes of `length` pixels, and keep
   * plane `plane`: resolves to {pixels (`length` of them), ms (worker time)}. `compressor` is the level's
   * decode spec (codecs.js).
   */
  decode(bytes, compressor, dtype, length, planes = 1, plane = 0) {
    if (this.failed) return Promise.reject(new Error(this.failed));
    const id = this.nextId++;
    let best = 0;
    for (let i = 1; i < this.load.length; i++) if (this.load[i] < this.load[best]) best = i;
    this.load[best]++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, worker: best });
      this.workers[best].postMessage({ id, bytes, compressor, dtype, length, planes, plane }, [bytes]);
    });
  }

  /** Let every worker load the codecs of `compressor` (a level's decode spec) ahead of use. */
  warm(compressor) {
    this.warmedAt = performance.now();
    for (const w of this.workers) w.postMessage({ warm: compressor });
  }

  _done(index, msg) {
    if (msg.warmed) { measure('codec', this.warmedAt); return; }
    this.load[index]--;
    const p = this.pending.get(msg.id);
    this.pending.delete(msg.id);
    if (!p) return;
    if (msg.error) p.reject(new Error(msg.error));
    else p.resolve({ pixels: msg.pixels, ms: msg.ms });
  }

  _fail(message) {
    this.failed = message;
    for (const p of this.pending.values()) p.reject(new Error(message));
    this.pending.clear();
  }

  destroy() {
    for (const w of this.workers) w.terminate();
    for (const p of this.pending.values()) p.reject(new Error('viewer destroyed'));
    this.pending.clear();
  }
}
