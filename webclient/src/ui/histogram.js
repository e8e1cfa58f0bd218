// Histogram of one channel (from the store metadata) with two draggable window handles.
import { h } from './dom.js';

/** Window [lo, hi] holding the `low`..`high` fraction of the histogram's counts. */
export function percentileWindow(histogram, low = 0.001, high = 0.999) {
  const { counts, range } = histogram;
  const total = counts.reduce((a, b) => a + b, 0);
  if (!total) return [range[0], range[1]];
  const w = (range[1] - range[0]) / counts.length;
  const at = (q) => {
    let acc = 0;
    for (let i = 0; i < counts.length; i++) {
      acc += counts[i];
      if (acc >= q * total) return range[0] + (i + (q * total - (acc - counts[i])) / counts[i]) * w;
    }
    return range[1];
  };
  const lo = Math.floor(at(low)), hi = Math.ceil(at(high));
  return [lo, Math.max(hi, lo + 1)];
}

export class HistogramView {
  /** `channel` gives the stored histogram (if any); `onWindow([lo, hi])` is called while a handle is dragged. */
  constructor(channel, dtypeMax, onWindow) {
    this.onWindow = onWindow;
    const hist = channel.histogram;
    this.range = hist ? [hist.range[0], hist.range[1]] : [0, dtypeMax + 1];
    // Bar heights (log counts) depend only on the stored histogram: computed once, not on every redraw of a drag.
    this.logs = hist && hist.counts.length ? hist.counts.map((n) => Math.log1p(n)) : null;
    this.top = this.logs ? Math.max(...this.logs) || 1 : 1;
    this.canvas = h('canvas.ct-histogram', { width: 240, height: 56, title: 'Drag the handles to set the contrast window' });
    this.window = [0, 1];
    this.dragging = null;
    this.canvas.addEventListener('pointerdown', (e) => {
      const v = this._valueAt(e);
      this.dragging = Math.abs(v - this.window[0]) <= Math.abs(v - this.window[1]) ? 0 : 1;
      // Synthetic events (tests, scripted demos) have no active pointer to capture.
      try { this.canvas.setPointerCapture(e.pointerId); } catch { /* keep dragging without capture */ }
      this._drag(e);
    });
    this.canvas.addEventListener('pointermove', (e) => { if (this.dragging !== null) this._drag(e); });
    const stop = () => { this.dragging = null; };
    this.canvas.addEventListener('pointerup', stop);
    this.canvas.addEventListener('pointercancel', stop);
  }

  _valueAt(e) {
    const r = this.canvas.getBoundingClientRect();
    const f = Math.max(0, Math.min(1, (e.clientX - r.left) / r.width));
    return this.range[0] + f * (this.range[1] - this.range[0]);
  }

  _drag(e) {
    const v = Math.round(this._valueAt(e));
    const w = [...this.window];
    w[this.dragging] = v;
    if (w[0] >= w[1]) { if (this.dragging === 0) w[0] = w[1] - 1; else w[1] = w[0] + 1; }
    this.window = w; // the panel redraws once per frame, moves may come faster
    this.onWindow(w);
  }

  /** Redraw for window `win` and colour `color`. */
  draw(win, color) {
    this.window = win;
    const c = this.canvas, g = c.getContext('2d');
    const W = c.width, H = c.height;
    g.fillStyle = '#111';
    g.fillRect(0, 0, W, H);
    const span = this.range[1] - this.range[0];
    const { logs, top } = this;
    if (logs) {
      g.fillStyle = color;
      g.globalAlpha = 0.75;
      const bw = W / logs.length;
      logs.forEach((v, i) => { const bh = v / top * (H - 2); g.fillRect(i * bw, H - bh, Math.max(1, bw), bh); });
      g.globalAlpha = 1;
    }
    const x = (v) => (v - this.range[0]) / span * W;
    g.strokeStyle = '#fff';
    g.lineWidth = 2;
    for (const v of win) { g.beginPath(); g.moveTo(x(v), 0); g.lineTo(x(v), H); g.stroke(); }
    g.strokeStyle = 'rgba(255,255,255,0.6)';
    g.lineWidth = 1;
    g.beginPath(); g.moveTo(x(win[0]), H); g.lineTo(x(win[1]), 0); g.stroke();
  }
}
