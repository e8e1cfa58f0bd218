// HTTP for the store readers: JSON metadata, whole objects and byte ranges, with errors in our words.

/** An error opening or reading a store, with a message for the user. */
export class StoreError extends Error {}

/** `url` with the page's access token added (it covers every URL of a private image). */
export function withToken(url, token) {
  if (!token) return url;
  return url + (url.includes('?') ? '&' : '?') + 'token=' + encodeURIComponent(token);
}

/** A short reason from an error response: our servers' JSON `error`, never a foreign page's HTML. */
async function errorText(response) {
  try {
    const text = await response.text();
    try { return String(JSON.parse(text).error || ''); } catch { /* not JSON */ }
    if (/^\s*</.test(text)) return '';
    return text.trim().split('\n')[0].slice(0, 160);
  } catch { return ''; }
}

/**
 * The response to `url` the viewer page started before the viewer loaded (index.html), once; null
 * when it did not. Waits, if need be, until the page has started all it will (levels follow the node).
 * @param {string} url
 * @returns {Promise<Response | null>}
 */
async function preloaded(url) {
  const early = globalThis.chromatilePreload;
  if (!early) return null;
  if (!early.has(url)) await early.ready;
  const p = early.get(url);
  if (!p) return null;
  early.delete(url);
  return p;
}

/**
 * Read a JSON document. Resolves to {status: 'ok', json} or {status: 'missing'} (404/403, as object
 * stores answer for a key that is not there), {status: 'html'} when a web page came back instead;
 * rejects with StoreError on network errors, other HTTP errors and invalid JSON.
 */
export async function readJson(url, token) {
  let response;
  try {
    response = await preloaded(withToken(url, token)) || await fetch(withToken(url, token));
  } catch (err) {
    throw new StoreError(`Cannot read ${url}: network error (${err.message}; a server on another origin must allow CORS)`);
  }
  if (response.status === 404) { response.body?.cancel(); return { status: 'missing', code: 404 }; }
  if (!response.ok) {
    const detail = await errorText(response);
    // S3 and similar answer 403 for a key that is not there; our server explains a real refusal.
    if (response.status === 403 && !detail) return { status: 'missing', code: 403 };
    throw new StoreError(`Cannot read ${url}: HTTP ${response.status}${detail ? ` - ${detail}` : ''}`);
  }
  const text = await response.text();
  try {
    return { status: 'ok', json: JSON.parse(text) };
  } catch {
    if (/^\s*</.test(text) || /html/.test(response.headers.get('content-type') || '')) return { status: 'html' };
    throw new StoreError(`Cannot read ${url}: not valid JSON`);
  }
}

/**
 * GET `url`, or the byte range `range` of it: {offset, length}, or {suffix} for the last `suffix`
 * bytes. Resolves to an ArrayBuffer of exactly those bytes, or null when the object is absent (404,
 * or 403 as S3 answers); rejects with StoreError on other failures, AbortError when `signal` aborts.
 */
export async function fetchBytes(url, range, signal) {
  const headers = {};
  if (range) {
    headers.Range = range.suffix !== undefined ? `bytes=-${range.suffix}`
      : `bytes=${range.offset}-${range.offset + range.length - 1}`;
  }
  const response = await fetch(url, { signal, headers });
  if (response.status === 404 || response.status === 403) { response.body?.cancel(); return null; }
  if (!response.ok) {
    const detail = await errorText(response);
    throw new StoreError(`Tile failed: HTTP ${response.status}${detail ? ` - ${detail}` : ''} (${url})`);
  }
  const buf = await response.arrayBuffer();
  if (!range || response.status === 206) return buf;
  // A server that ignores Range sends the whole object (200): cut the wanted bytes from it.
  if (range.suffix !== undefined) return buf.slice(Math.max(0, buf.byteLength - range.suffix));
  return buf.slice(range.offset, range.offset + range.length);
}
