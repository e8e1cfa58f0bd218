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
 * Where one tile of `level` goes on a canvas of `W` x `H` device pixels: its quad, exactly the canvas
 * pixels whose sample point lies in the tile (whole pixels, within the canvas), the tile texel
 * position (relative to the tile origin) at the quad's top-left and bottom-right corners, and the
 * valid texel size. Null when no pixel of the canvas samples the tile.
 *
 * A pixel samples texel floor(t + shift), t its centre's level position, `shift` from sampleShift
 * (which changes no pixel's texel but keeps every centre away from texel edges); the quad is decided
 * here, in double precision, so neighbouring tiles share their edge pixel for pixel, a centre exactly
 * on a tile edge belongs to the tile to its right or below, and a pixel sampling just outside the
 * image is in no quad and stays black (as in the NumPy reference). The texel position is interpolated
 * over the quad (tile.vert.glsl) and the fragment shader takes floor(position), kept within the tile
 * against float32 rounding at its edges: no pixel is drawn twice and none is discarded (a `discard`
 * cost software GL ~2.5 ms of a 1000 x 800 frame). Corners on whole pixels mean no rasteriser's
 * snapping of vertex positions shifts the interpolation, and within the canvas the positions stay
 * small (exact in float32).
 * @param {View} view
 * @param {number} dpr device pixels per CSS pixel
 * @param {number} W canvas width in device pixels
 * @param {number} H canvas height in device pixels
 * @param {Level} lv
 * @param {number} ty
 * @param {number} tx
 * @param {[number, number]} shift sampleShift(view, dpr, W, H, lv)
 * @returns {null | {quad: [number, number, number, number], texels: [number, number, number, number], size: [number, number]}}
 */
export function tilePlacement(view, dpr, W, H, lv, ty, tx, shift) {
  const ax = levelAxis(view, dpr, W, lv, 0), ay = levelAxis(view, dpr, H, lv, 1);
  const ox = tx * lv.chunk.x, oy = ty * lv.chunk.y;
  const w = Math.min(lv.chunk.x, lv.size.x - ox), h = Math.min(lv.chunk.y, lv.size.y - oy);
  // the first pixel whose centre, moved by s, is at or past level position p (within the canvas)
  const first = (/** @type {LevelAxis} */ a, /** @type {number} */ p, /** @type {number} */ s, /** @type {number} */ n) =>
    Math.min(n, Math.max(0, Math.ceil((p - s - a.at(0)) / a.scale - 0.5)));
  const x0 = first(ax, ox, shift[0], W), x1 = first(ax, ox + w, shift[0], W);
  const y0 = first(ay, oy, shift[1], H), y1 = first(ay, oy + h, shift[1], H);
  if (x1 <= x0 || y1 <= y0) return null;
  // the tile texel positions at the quad's corners, rows downwards
  const texels = /** @type {[number, number, number, number]} */ ([ax.at(x0) - ox + shift[0], ay.at(y0) - oy + shift[1],
    ax.at(x1) - ox + shift[0], ay.at(y1) - oy + shift[1]]);
  return { quad: [x0, y0, x1, y1], texels, size: [w, h] };
}

/**
 * How far (in level pixels, x and y) to move the sample positions of `lv`'s tiles: as far from texel
 * edges as possible while every canvas pixel keeps its texel. A pixel samples texel floor(t), t its
 * centre's level position; adding (1 - min frac(t) - max frac(t)) / 2 to every t leaves each floor
 * unchanged (computed here in double precision) and centres the fractions in [0, 1). At zoom 1 with
 * pixel centres on texel edges (every frac 0) the shift is half a texel, at zoom 2 a quarter: the
 * shader's float32 interpolation then cannot round a pixel into the neighbouring texel. At zooms where
 * the fractions fill [0, 1) the shift is about 0 and the sampling is as exact as float32 allows.
 * @param {View} view
 * @param {number} dpr
 * @param {number} W canvas width in device pixels
 * @param {number} H canvas height in device pixels
 * @param {Level} lv
 * @returns {[number, number]}
 */
export function sampleShift(view, dpr, W, H, lv) {
  const axis = (/** @type {LevelAxis} */ a, /** @type {number} */ n) => {
    let lo = 1, hi = 0;
    for (let i = 0; i < n; i++) {
      const t = a.at(i + 0.5);
      const f = t - Math.floor(t);
      if (f < lo) lo = f;
      if (f > hi) hi = f;
    }
    return (1 - lo - hi) / 2;
  };
  return [axis(levelAxis(view, dpr, W, lv, 0), W), axis(levelAxis(view, dpr, H, lv, 1), H)];
}

/** @typedef {{scale: number, at: (x: number) => number}} LevelAxis */

/**
 * The view transform along one axis (k: 0 for x, 1 for y) of a canvas `n` device pixels across, in
 * `lv`'s pixels: at(x) is the level position at canvas position x (device pixels from the left or top
 * edge; a pixel's centre is at i + 0.5), `scale` the level pixels per device pixel.
 * @param {View} view
 * @param {number} dpr
 * @param {number} n
 * @param {Level} lv
 * @param {0 | 1} k
 * @returns {LevelAxis}
 */
function levelAxis(view, dpr, n, lv, k) {
  const scale = 1 / (view.zoom * dpr * lv.downsample), centre = view.center[k] / lv.downsample;
  return { scale, at: (x) => centre + (x - n / 2) * scale };
}
