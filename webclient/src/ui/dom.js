// Tiny DOM helper: h('div.class', {attr: v, onclick: fn}, ...children).
export function h(tag, attrs = {}, ...children) {
  const [name, ...classes] = tag.split('.');
  const el = document.createElement(name || 'div');
  if (classes.length) el.className = classes.join(' ');
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) el.append(c);
  return el;
}

/**
 * Set `el[prop]` to `value` only if it differs. Writing an unchanged value still costs: a text node is
 * replaced, an attribute re-set, and the page restyles, lays out and repaints (on a software GL about 2 ms
 * of main thread per frame of a handle drag, bench/viewer), while the panel's state sync runs every frame.
 * @template {object} T
 * @param {T} el
 * @param {keyof T & string} prop
 * @param {unknown} value
 */
export function setProp(el, prop, value) {
  if (/** @type {any} */ (el)[prop] !== value) /** @type {any} */ (el)[prop] = value;
}
