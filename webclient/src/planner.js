// @ts-check
// The loading policy and the stand-ins, as one pure function: from the viewer's state and what is
// resident on the GPU, the chunk requests in the order they should be made and the tiles to draw
// (coarse first). No DOM, no GPU, no clock: unit-tested under node (webclient/test/planner.test.js).
import { chooseLevel, tilesInRect, neighbours } from './scheduler.js';
import { viewRect } from './view.js';

/** @typedef {import('./types.js').ImageSource} ImageSource */
/** @typedef {import('./types.js').View} View */
/** @typedef {import('./types.js').TileRef} TileRef */
/** @typedef {import('./types.js').ChunkRequest} ChunkRequest */

/** A tile's state for the visible channels: nothing usable yet, settled without pixels (every channel failed), drawable. */
export const MISSING = 0;
export const SETTLED = 1;
export const DRAWABLE = 2;

/**
 * @typedef {object} PlanInput
 * @property {ImageSource} source
 * @property {View} view
 * @property {number} width canvas width, CSS pixels
 * @property {number} height canvas height, CSS pixels
 * @property {number} dpr device pixels per CSS pixel
 * @property {number} z
 * @property {number} t
 * @property {number[]} channels visible channel indices
 * @property {(tile: TileRef) => number} tileState MISSING, SETTLED or DRAWABLE for the visible channels
 * @property {() => Array<[number, number]>} [planes] [t, z] of every plane with a drawable tile (stand-in
 *   candidates), asked only when a target tile is not drawable
 * @property {boolean} [schedule] false: the draw list only, no requests (a frame that only recolours)
 * @property {number} [zDir] direction of the last Z step (+1 / -1)
 * @property {number} [tDir] direction of the last T step
 * @property {[number, number]} [shown] [t, z] of the plane on the canvas: after coarser levels of this plane, the
 *   preferred stand-in (it stays on screen without a new frame)
 * @property {boolean} [moving] Z or T is changing quickly (a slider drag, a held key): coarse levels only
 * @property {number} [margin] tiles loaded around the view once it is complete
 * @property {number} [prefetchZ] slices prefetched ahead of the last step (half as many behind)
 * @property {number} [prefetchT] time points prefetched
 * @property {number} [budgetBytes] the texture budget: prefetched planes take at most half of it
 * @property {(level: number) => number} [tileBytes] GPU bytes of one tile of `level` holding the visible channels
 */

/**
 * @typedef {object} Plan
 * @property {number} level the pyramid level the view wants
 * @property {[number, number, number, number]} rect the level-0 rectangle in view
 * @property {Array<{ty: number, tx: number}>} target tiles of `level` in view, nearest the centre first
 * @property {ChunkRequest[]} requests chunks to load, most wanted first (already loaded ones included: the loader
 *   skips them); empty when `schedule` is false
 * @property {number} urgent how many of `requests`, from the first, are for the view itself (the coarse cover
 *   and the visible tiles of this plane); the rest (margin, other planes) load ahead of need
 * @property {TileRef[]} draw tiles to draw, coarsest first: target tiles, else the best resident stand-in
 * @property {boolean} complete every target tile of the current plane is drawable or settled
 * @property {number} uncovered target tiles with nothing drawn over them
 */

/** @param {TileRef} a */
const keyOf = (a) => `${a.level}/${a.t}/${a.z}/${a.ty}/${a.tx}`;

/**
 * Plan one frame: what to draw now and what to load next.
 * @param {PlanInput} input
 * @returns {Plan}
 */
export function plan(input) {
  const { source: src, view, width, height, dpr, z, t, channels, tileState } = input;
  const level = chooseLevel(src, view.zoom, dpr);
  const rect = viewRect(view, width, height);
  const target = tilesInRect(src, level, rect, 0);
  const coarsest = src.levels.length - 1;

  // ---- draw list: each target tile itself, else a stand-in covering it ------------------------
  // Stand-ins, best first: the same plane at a coarser level, then the plane already on screen (no
  // new frame needed to keep it), then the nearest resident planes (Z or T neighbours, at this level
  // or coarser), so a Z or T change never shows a blank frame.
  /** @type {Array<[number, number]> | null} */
  let nearest = null;
  const others = () => {
    if (nearest) return nearest;
    const rank = (/** @type {[number, number]} */ a) => (input.shown && a[0] === input.shown[0] && a[1] === input.shown[1] ? -1
      : Math.abs(a[0] - t) + Math.abs(a[1] - z));
    nearest = (input.planes ? input.planes() : []).filter(([pt, pz]) => pt !== t || pz !== z)
      .sort((a, b) => rank(a) - rank(b) || Math.abs(a[0] - t) - Math.abs(b[0] - t));
    return nearest;
  };
  /** @type {Map<string, TileRef>} */
  const drawn = new Map();
  let complete = true;
  let uncovered = 0;
  const lv = src.levels[level];
  const tw = lv.chunk.x * lv.downsample, th = lv.chunk.y * lv.downsample;
  for (const { ty, tx } of target) {
    const own = { level, t, z, ty, tx };
    const state = tileState(own);
    if (state === DRAWABLE) { drawn.set(keyOf(own), own); continue; }
    // A tile whose channels all failed is settled (its message is shown): it keeps a stand-in but
    // does not hold the view incomplete forever.
    if (state !== SETTLED) complete = false;
    const tileRect = /** @type {[number, number, number, number]} */ (
      [tx * tw, ty * th, Math.min(src.width, (tx + 1) * tw), Math.min(src.height, (ty + 1) * th)]);
    const cover = standIn(src, tileRect, level, t, z, others, tileState);
    if (cover) for (const c of cover) drawn.set(keyOf(c), c);
    else if (state !== SETTLED) uncovered++;
  }
  const draw = [...drawn.values()].sort((a, b) => b.level - a.level);

  // ---- requests ---------------------------------------------------------------------------------
  /** @type {ChunkRequest[]} */
  const requests = [];
  if (input.schedule === false) return { level, rect, target, requests, urgent: requests.length, draw, complete, uncovered };
  /** @param {number} L @param {number} tt @param {number} zz @param {Array<{ty: number, tx: number}>} tiles */
  const add = (L, tt, zz, tiles) => {
    for (const { ty, tx } of tiles) for (const c of channels) requests.push({ level: L, t: tt, z: zz, ty, tx, c });
  };
  // The coarsest level first: a few small chunks that cover the whole view of this plane.
  if (coarsest !== level) add(coarsest, t, z, tilesInRect(src, coarsest, rect, 0));
  // While Z or T changes quickly, each plane passed gets only that coarse cover: the finer tiles of
  // a plane shown for a frame or two would arrive after it is gone.
  if (input.moving && coarsest !== level) return { level, rect, target, requests, urgent: requests.length, draw, complete, uncovered };
  add(level, t, z, target);
  const urgent = requests.length;
  const margin = tilesInRect(src, level, rect, input.margin ?? 1).filter((x) => x.ring > 0);
  const visibleDone = target.every((x) => tileState({ level, t, z, ty: x.ty, tx: x.tx }) !== MISSING);
  // The pan margin waits for the view itself: before, it took connections and decoders from the
  // visible tiles and held the first view back (bench/viewer's breakdown).
  if (!visibleDone || input.moving) return { level, rect, target, requests, urgent, draw, complete, uncovered };
  // Once the view is complete: neighbouring planes at the current level, the next one in the
  // direction of the last step before the pan margin, since stepping through Z must never go blank.
  const planeBytes = target.length * (input.tileBytes ? input.tileBytes(level) : 0);
  const fit = planeBytes > 0 && input.budgetBytes !== undefined
    ? Math.max(1, Math.floor(input.budgetBytes / 2 / planeBytes) - 1) : Infinity;
  const zs = neighbours(z, src.sizeZ, Math.min(input.prefetchZ ?? 10, fit), input.zDir ?? 1);
  const ts = neighbours(t, src.sizeT, Math.min(input.prefetchT ?? 1, fit), input.tDir ?? 1);
  if (zs.length) add(level, t, zs[0], target);
  add(level, t, z, margin);
  for (const zz of zs.slice(1)) add(level, t, zz, target);
  for (const tt of ts) add(level, tt, z, target);
  return { level, rect, target, requests, urgent, draw, complete, uncovered };
}

/**
 * The drawable tiles that together cover `rect` (level-0) best: the plane (t, z) at a level coarser
 * than `level`, else the nearest other plane at `level` or coarser. Null when nothing covers it.
 * @param {ImageSource} src
 * @param {[number, number, number, number]} rect
 * @param {number} level
 * @param {number} t
 * @param {number} z
 * @param {() => Array<[number, number]>} others nearest first
 * @param {(tile: TileRef) => number} tileState
 * @returns {TileRef[] | null}
 */
function standIn(src, rect, level, t, z, others, tileState) {
  /** @param {number} tt @param {number} zz @param {number} from */
  const at = (tt, zz, from) => {
    for (let L = from; L < src.levels.length; L++) {
      const cover = tilesInRect(src, L, rect, 0).map(({ ty, tx }) => ({ level: L, t: tt, z: zz, ty, tx }));
      if (cover.every((c) => tileState(c) === DRAWABLE)) return cover;
    }
    return null;
  };
  const same = at(t, z, level + 1);
  if (same) return same;
  for (const [pt, pz] of others()) {
    const cover = at(pt, pz, level);
    if (cover) return cover;
  }
  return null;
}
