// @ts-check
// Tile geometry for the planner: pure functions of the source, a zoom or a level-0 rectangle.

/** @typedef {import('./types.js').ImageSource} ImageSource */

/**
 * The pyramid level for `zoom` (CSS px per level-0 px): the coarsest one still at least as sharp as the screen.
 * @param {ImageSource} source
 * @param {number} zoom
 * @param {number} [dpr]
 */
export function chooseLevel(source, zoom, dpr = 1) {
  const z = zoom * dpr;
  let best = 0;
  source.levels.forEach((lv, i) => {
    // A level is sharp enough while one of its pixels covers at most ~1 screen pixel.
    if (lv.downsample * z <= 1.0001 && lv.downsample > source.levels[best].downsample) best = i;
  });
  return best;
}

/**
 * Tiles of `level` meeting the level-0 rectangle `rect` grown by `margin` tiles, nearest to the
 * rectangle's centre first. Each is {ty, tx, ring} where ring 0 is inside the rectangle.
 * @param {ImageSource} source
 * @param {number} level
 * @param {[number, number, number, number]} rect
 * @param {number} [margin]
 * @returns {Array<{ty: number, tx: number, ring: number, dist: number}>}
 */
export function tilesInRect(source, level, rect, margin = 0) {
  const lv = source.levels[level];
  const tw = lv.chunk.x * lv.downsample, th = lv.chunk.y * lv.downsample;
  const cx0 = Math.floor(rect[0] / tw), cx1 = Math.floor((rect[2] - 1e-9) / tw);
  const cy0 = Math.floor(rect[1] / th), cy1 = Math.floor((rect[3] - 1e-9) / th);
  const mx = (rect[0] + rect[2]) / 2 / tw - 0.5, my = (rect[1] + rect[3]) / 2 / th - 0.5;
  const out = [];
  for (let ty = Math.max(0, cy0 - margin); ty <= Math.min(lv.tilesY - 1, cy1 + margin); ty++) {
    for (let tx = Math.max(0, cx0 - margin); tx <= Math.min(lv.tilesX - 1, cx1 + margin); tx++) {
      const ring = Math.max(cx0 - tx, tx - cx1, cy0 - ty, ty - cy1, 0);
      out.push({ ty, tx, ring, dist: (tx - mx) ** 2 + (ty - my) ** 2 });
    }
  }
  out.sort((a, b) => a.ring - b.ring || a.dist - b.dist);
  return out;
}

/**
 * Z (or T) indices to prefetch around `at`, in the direction of the last step first.
 * @param {number} at
 * @param {number} size
 * @param {number} depth
 * @param {number} [direction]
 * @returns {number[]}
 */
export function neighbours(at, size, depth, direction = 1) {
  const dir = direction < 0 ? -1 : 1;
  const out = [];
  for (let k = 1; k <= depth; k++) {
    for (const s of [dir, -dir]) {
      // Ahead gets the full depth, behind only the nearest slices.
      if (s === -dir && k > Math.max(1, Math.floor(depth / 2))) continue;
      const v = at + s * k;
      if (v >= 0 && v < size) out.push(v);
    }
  }
  return out;
}
