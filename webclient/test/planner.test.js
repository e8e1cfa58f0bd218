// The load planner: ordered requests and stand-ins, from state and residency alone (no browser).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plan } from '../src/planner.js';
import { makeSource, residency } from './fixtures.js';

const key = (r) => `${r.level}/${r.t}/${r.z}/${r.ty}/${r.tx}`;

// 1024 x 1024, tiles of 64, 5 levels; a 256 x 256 canvas at zoom 1 centred on (512, 512): level 0,
// tiles 6..9 x 6..9 (16 tiles) in view.
function base(extra = {}) {
  return { source: makeSource(), view: { center: [512, 512], zoom: 1 }, width: 256, height: 256, dpr: 1, z: 6, t: 0,
    channels: [0, 1], tileState: residency(new Set()), ...extra };
}

function allTargets(p, t, z) {
  return new Set(p.target.map(({ ty, tx }) => key({ level: p.level, t, z, ty, tx })));
}

test('nothing resident: coarsest level first, then the view at its level, nothing else', () => {
  const p = plan(base());
  assert.equal(p.level, 0);
  assert.equal(p.target.length, 16);
  assert.deepEqual(p.draw, []);
  assert.equal(p.uncovered, 16);
  assert.equal(p.complete, false);
  // Level 4 (tiles of 1024 level-0 px) covers the view with one tile, two channels.
  assert.deepEqual(p.requests.slice(0, 2), [{ level: 4, t: 0, z: 6, ty: 0, tx: 0, c: 0 }, { level: 4, t: 0, z: 6, ty: 0, tx: 0, c: 1 }]);
  const fine = p.requests.slice(2, 2 + 32);
  assert.ok(fine.every((r) => r.level === 0 && r.z === 6 && r.ty >= 6 && r.ty <= 9 && r.tx >= 6 && r.tx <= 9));
  // Nearest the centre first.
  assert.ok([7, 8].includes(fine[0].ty) && [7, 8].includes(fine[0].tx));
  assert.equal(p.requests.length, 34, 'no margin nor other planes before the view is complete');
});

test('complete view: drawn as is, then the next plane in the step direction, the margin, more planes', () => {
  const first = plan(base());
  const p = plan(base({ tileState: residency(allTargets(first, 0, 6)), zDir: -1, prefetchZ: 2 }));
  assert.equal(p.complete, true);
  assert.equal(p.uncovered, 0);
  assert.equal(p.draw.length, 16);
  // The view (resident, skipped by the loader), plane 5 (the step direction) before the margin of
  // plane 6, then 7 (one behind) and 4.
  const runs = p.requests.filter((r) => r.level === 0).map((r) => r.z).filter((z, i, a) => i === 0 || a[i - 1] !== z);
  assert.deepEqual(runs, [6, 5, 6, 7, 4]);
});

test('a Z jump draws the nearest resident plane until the target plane arrives', () => {
  const first = plan(base());
  const resident = new Set([...allTargets(first, 0, 6), ...allTargets(first, 0, 11)]);
  const p = plan(base({ z: 0, tileState: residency(resident), planes: () => [[0, 6], [0, 11]] }));
  assert.equal(p.complete, false);
  assert.equal(p.uncovered, 0);
  assert.ok(p.draw.every((d) => d.z === 6 && d.level === 0), 'plane 6 (nearer than 11) stands in');
  assert.equal(p.draw.length, 16);
  assert.deepEqual(p.requests[0], { level: 4, t: 0, z: 0, ty: 0, tx: 0, c: 0 }, 'the coarse cover of plane 0 first');
});

test('a coarser level of the target plane is preferred to another plane', () => {
  const coarse = new Set(['4/0/0/0/0']);
  const first = plan(base());
  const p = plan(base({ z: 0, tileState: residency(new Set([...coarse, ...allTargets(first, 0, 6)])), planes: () => [[0, 0], [0, 6]] }));
  assert.deepEqual(p.draw.map(key), ['4/0/0/0/0']);
  assert.equal(p.uncovered, 0);
});

test('a T change stands in with the nearest time point', () => {
  const source = makeSource({ sizeT: 4, sizeZ: 2 });
  const first = plan(base({ source, z: 1, t: 0 }));
  const p = plan(base({ source, z: 1, t: 3, tileState: residency(allTargets(first, 0, 1)), planes: () => [[0, 1]] }));
  assert.equal(p.uncovered, 0);
  assert.ok(p.draw.every((d) => d.t === 0 && d.z === 1));
});

test('while Z moves quickly only the coarse cover of each plane is requested', () => {
  const p = plan(base({ moving: true }));
  assert.deepEqual(p.requests, [{ level: 4, t: 0, z: 6, ty: 0, tx: 0, c: 0 }, { level: 4, t: 0, z: 6, ty: 0, tx: 0, c: 1 }]);
  const done = plan(base({ moving: true, tileState: residency(new Set(['4/0/6/0/0'])) }));
  assert.equal(done.complete, false, 'the view waits for its own level once the drag stops');
  assert.equal(done.uncovered, 0);
});

test('tiles whose channels all failed are settled: complete, nothing drawn for them', () => {
  const first = plan(base());
  const all = [...allTargets(first, 0, 6)];
  const p = plan(base({ tileState: residency(new Set(all.slice(1)), new Set(all.slice(0, 1))) }));
  assert.equal(p.complete, true);
  assert.equal(p.uncovered, 0);
  assert.equal(p.draw.length, 15);
});

test('stand-ins are drawn coarsest first, under the finer tiles', () => {
  const first = plan(base());
  const half = [...allTargets(first, 0, 6)].slice(0, 8);
  const p = plan(base({ tileState: residency(new Set([...half, '4/0/6/0/0'])), planes: () => [[0, 6]] }));
  assert.equal(p.draw[0].level, 4);
  assert.ok(p.draw.slice(1).every((d) => d.level === 0));
  assert.equal(p.draw.length, 9);
});

test('a frame that only recolours plans no requests', () => {
  const p = plan(base({ schedule: false }));
  assert.deepEqual(p.requests, []);
  assert.equal(p.uncovered, 16);
});

test('the prefetch keeps within half the texture budget', () => {
  const first = plan(base());
  const tileBytes = () => 64 * 64 * 2 * 2;
  const plane = 16 * tileBytes();
  // Budget for 8 planes: half of it is 4 planes, minus the one shown: 3 ahead (and 1 behind).
  const p = plan(base({ tileState: residency(allTargets(first, 0, 6)), budgetBytes: 8 * plane, tileBytes, prefetchZ: 10 }));
  const zs = [...new Set(p.requests.filter((r) => r.level === 0 && r.z !== 6).map((r) => r.z))];
  assert.deepEqual(zs, [7, 5, 8, 9]);
  const unbounded = plan(base({ tileState: residency(allTargets(first, 0, 6)), prefetchZ: 10 }));
  assert.equal(new Set(unbounded.requests.map((r) => r.z)).size, 1 + 5 + 5, 'the plane, 5 behind and 5 ahead (the last plane)');
});

test('the view\'s own requests come first and are counted as urgent; margin and prefetch follow', () => {
  const first = plan(base());
  assert.equal(first.urgent, first.requests.length, 'before the view is complete, only the view is asked for');
  const p = plan(base({ tileState: residency(allTargets(first, 0, 6)), prefetchZ: 2 }));
  assert.equal(p.urgent, 2 + 32, 'the coarse cover (1 tile) and the 16 visible tiles, 2 channels each');
  assert.ok(p.requests.slice(0, p.urgent).every((r) => r.z === 6 && (r.level === 4 || (r.ty >= 6 && r.ty <= 9 && r.tx >= 6 && r.tx <= 9))));
  assert.ok(p.requests.length > p.urgent);
  assert.ok(p.requests.slice(p.urgent).every((r) => r.level === 0 && (r.z !== 6 || r.ty < 6 || r.ty > 9 || r.tx < 6 || r.tx > 9)),
    'then only margin tiles and other planes');
});

test('the plane on screen is the preferred stand-in after coarser levels of the target plane', () => {
  const first = plan(base());
  const resident = new Set([...allTargets(first, 0, 6), ...allTargets(first, 0, 1)]);
  const p = plan(base({ z: 0, tileState: residency(resident), planes: () => [[0, 6], [0, 1]], shown: [0, 6] }));
  assert.ok(p.draw.every((d) => d.z === 6), 'plane 6 (on screen) rather than plane 1 (nearer)');
  assert.equal(p.uncovered, 0);
  const q = plan(base({ z: 0, tileState: residency(resident), planes: () => [[0, 6], [0, 1]] }));
  assert.ok(q.draw.every((d) => d.z === 1), 'without it, the nearest plane');
});
