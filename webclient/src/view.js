// @ts-check
// The view transform, written once: where a level-0 image pixel lands on the canvas and back, what
// rectangle a view shows, and where a tile's quad goes. Used by the renderer (quads), the planner
// (which tiles) and the viewer/interaction (pointer positions, zoom about a point).
//
// A view is {center, zoom}: `center` is the level-0 pixel position at the canvas centre, `zoom` the
// CSS pixels per level-0 pixel. Canvas pixel column i (0-based) shows level-0 x =
// center[0] + (i + 0.5 - width / 2) / zoom, sampled by floor (nearest, never interpolated).

/** @typedef {import('./types.js').View} View */
/** @typedef {import('./types.js').Level} Level */
/** @typedef {import('./types.js').ImageSource} ImageSource */

/** Largest zoom (CSS pixels per level-0 pixel). */
export const MAX_ZOOM = 64;

/**
 * Level-0 rectangle [x0, y0, x1, y1] seen by a canvas of `width` x `height` (CSS) pixels.
 * @param {View} view
 * @param {number} width
 * @param {number} height
 * @returns {[number, number, number, number]}
 */
export function viewRect(view, width, height) {
  const hw = width / 2 / view.zoom, hh = height / 2 / view.zoom;
  return [view.center[0] - hw, view.center[1] - hh, view.center[0] + hw, view.center[1] + hh];
}

/**
 * Level-0 position under canvas position (sx, sy) (CSS pixels from the top-left corner).
 * @param {View} view
 * @param {number} width
 * @param {number} height
 * @param {number} sx
 * @param {number} sy
 * @returns {[number, number]}
 */
export function screenToImage(view, width, height, sx, sy) {
  return [view.center[0] + (sx - width / 2) / view.zoom, view.center[1] + (sy - height / 2) / view.zoom];
}

/**
 * Canvas position (CSS pixels) of level-0 position (x, y).
 * @param {View} view
 * @param {number} width
 * @param {number} height
 * @param {number} x
 * @param {number} y
 * @returns {[number, number]}
 */
export function imageToScreen(view, width, height, x, y) {
  return [(x - view.center[0]) * view.zoom + width / 2, (y - view.center[1]) * view.zoom + height / 2];
}

/**
 * Smallest zoom allowed: a quarter of the fitted zoom (never more than 1).
 * @param {ImageSource} source
 * @param {number} width
 * @param {number} height
 */
export function minZoom(source, width, height) {
  return Math.min(1, 0.25 * Math.min(width / source.width, height / source.height));
}

/**
 * @param {number} zoom
 * @param {ImageSource} source
 * @param {number} width
 * @param {number} height
 */
export function clampZoom(zoom, source, width, height) {
  return Math.max(minZoom(source, width, height), Math.min(MAX_ZOOM, zoom));
}

/**
 * The whole plane in the canvas, centred.
 * @param {ImageSource} source
 * @param {number} width
 * @param {number} height
 * @returns {View}
 */
export function fitView(source, width, height) {
  return { center: [source.width / 2, source.height / 2], zoom: Math.min(width / source.width, height / source.height) };
}

/**
 * The view zoomed to `zoom` keeping the level-0 point under canvas position (sx, sy) where it is.
 * @param {View} view
 * @param {number} width
 * @param {number} height
 * @param {number} zoom
 * @param {number} sx
 * @param {number} sy
 * @returns {View}
 */
export function zoomAbout(view, width, height, zoom, sx, sy) {
  const p = screenToImage(view, width, height, sx, sy);
  return { center: [p[0] - (sx - width / 2) / zoom, p[1] - (sy - height / 2) / zoom], zoom };
}

/**
 * The view moved by (dx, dy) CSS pixels (the image follows the pointer).
 * @param {View} view
 * @param {number} dx
 * @param {number} dy
 * @returns {View}
 */
export function panView(view, dx, dy) {
  return { center: [view.center[0] - dx / view.zoom, view.center[1] - dy / view.zoom], zoom: view.zoom };
}

/**
 * Where one tile of `level` goes on a canvas of `W` x `H` device pixels: its quad in device pixels
 * (grown by one pixel on every side), the level pixel (relative to the tile origin) at the canvas'
 * top-left corner, level pixels per device pixel, and the valid texel size. Null when the tile is
 * entirely off the canvas.
 *
 * The fragment shader finds each pixel's texel as floor(origin + (pixel centre) * scale) and
 * discards pixels whose texel falls outside the tile. So a pixel belongs to the tile holding its
 * sample point, whatever the rasteriser decides for a centre lying exactly on a quad edge: the grown
 * quads overlap their neighbours by a pixel, and a pixel sampling just outside the image stays black
 * (as in the NumPy reference), never a copy of the last row.
 * @param {View} view
 * @param {number} dpr device pixels per CSS pixel
 * @param {number} W canvas width in device pixels
 * @param {number} H canvas height in device pixels
 * @param {Level} lv
 * @param {number} ty
 * @param {number} tx
 * @returns {null | {quad: [number, number, number, number], origin: [number, number], scale: number, size: [number, number]}}
 */
export function tilePlacement(view, dpr, W, H, lv, ty, tx) {
  const d = lv.downsample;
  const zoom = view.zoom * dpr; // device pixels per level-0 pixel
  const ox = tx * lv.chunk.x, oy = ty * lv.chunk.y;
  const w = Math.min(lv.chunk.x, lv.size.x - ox), h = Math.min(lv.chunk.y, lv.size.y - oy);
  const x0 = (ox * d - view.center[0]) * zoom + W / 2 - 1, x1 = ((ox + w) * d - view.center[0]) * zoom + W / 2 + 1;
  const y0 = (oy * d - view.center[1]) * zoom + H / 2 - 1, y1 = ((oy + h) * d - view.center[1]) * zoom + H / 2 + 1;
  if (x1 < 0 || y1 < 0 || x0 > W || y0 > H) return null;
  const scale = 1 / (zoom * d);
  return {
    quad: [x0, y0, x1, y1],
    origin: [view.center[0] / d - ox - W / 2 * scale, view.center[1] / d - oy - H / 2 * scale],
    scale,
    size: [w, h],
  };
}
