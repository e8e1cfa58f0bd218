// @ts-check
// The first view's timeline as User Timing entries named `ct:...` (marks `ct:page`, `ct:metadata`, `ct:webgl`,
// `ct:first-view`; measures `ct:fetch`, `ct:decode`, `ct:upload`, `ct:draw` per chunk or frame), read by
// bench/viewer for its breakdown and shown by the browser's performance panel. Only the page's first
// view is traced: a long session must not grow the performance timeline.
let tracing = typeof performance !== 'undefined' && typeof performance.mark === 'function';

/** @param {string} name */
export function mark(name) {
  if (tracing) performance.mark(`ct:${name}`);
}

/**
 * @param {string} name
 * @param {number} start performance.now() at the start
 * @param {any} [detail]
 */
export function measure(name, start, detail) {
  if (tracing) performance.measure(`ct:${name}`, { start, end: performance.now(), detail });
}

/** The first view is complete: mark it and stop tracing. */
export function firstViewDone() {
  if (!tracing) return;
  mark('first-view');
  tracing = false;
}

/** True until the first view is complete. */
export function isTracing() { return tracing; }
