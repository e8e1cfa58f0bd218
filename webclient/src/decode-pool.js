// A small pool of decode workers started from the inlined worker source (see build.mjs).
import workerSource from 'virtual:decode-worker';

export class DecodePool {
  // One worker per core (2 to 4): the main thread only fetches, uploads and draws, so decoding may use
  // every core; on a 2-core machine one worker halved the Z-stepping throughput (bench/viewer).
  constructor(size = Math.max(2, Math.min(4, navigator.hardwareConcurrency || 2))) {
    const url = URL.createObjectURL(new Blob([workerSource], { type: 'text/javascript' }));
    this.workers = [];
    this.pending = new Map();
    this.nextId = 1;
    this.load = [];
    for (let i = 0; i < size; i++) {
      const w = new Worker(url);
      w.onmessage = (e) => this._done(i, e.data);
      this.workers.push(w);
      this.load.push(0);
    }
    URL.revokeObjectURL(url);
  }

  /**
   * Decode `bytes` (an ArrayBuffer, transferred), a chunk of `planes` planes of `length` pixels, and keep
   * plane `plane`: resolves to {pixels (`length` of them), ms (worker time)}.
   */
  decode(bytes, compressor, dtype, length, planes = 1, plane = 0) {
    const id = this.nextId++;
    let best = 0;
    for (let i = 1; i < this.load.length; i++) if (this.load[i] < this.load[best]) best = i;
    this.load[best]++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.workers[best].postMessage({ id, bytes, compressor, dtype, length, planes, plane }, [bytes]);
    });
  }

  /** Let every worker instantiate the codec for `compressor` (a Zarr compressor config) ahead of use. */
  warm(compressor) {
    for (const w of this.workers) w.postMessage({ warm: compressor });
  }

  _done(index, msg) {
    this.load[index]--;
    const p = this.pending.get(msg.id);
    this.pending.delete(msg.id);
    if (!p) return;
    if (msg.error) p.reject(new Error(msg.error));
    else p.resolve({ pixels: msg.pixels, ms: msg.ms });
  }

  destroy() {
    for (const w of this.workers) w.terminate();
    for (const p of this.pending.values()) p.reject(new Error('viewer destroyed'));
    this.pending.clear();
  }
}
