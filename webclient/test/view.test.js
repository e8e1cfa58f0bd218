// The view transform: screen <-> image, zoom about a point, tile quads and sample origins.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitView, imageToScreen, panView, sampleShift, screenToImage, tilePlacement, viewRect, zoomAbout } from '../src/view.js';
import { makeSource } from './fixtures.js';

test('screenToImage and imageToScreen are inverse, and the canvas centre shows the view centre', () => {
  const view = { center: [300, 400], zoom: 2.5 };
  assert.deepEqual(screenToImage(view, 1000, 801, 500, 400.5), [300, 400]);
  const p = imageToScreen(view, 1000, 801, 123.25, 77);
  assert.deepEqual(screenToImage(view, 1000, 801, p[0], p[1]), [123.25, 77]);
  assert.deepEqual(viewRect(view, 1000, 800), [100, 240, 500, 560]);
});

test('zoomAbout keeps the point under the cursor, panView follows the pointer', () => {
  const view = { center: [300, 400], zoom: 1 };
  const under = screenToImage(view, 256, 256, 60, 200);
  const z = zoomAbout(view, 256, 256, 2, 60, 200);
  assert.equal(z.zoom, 2);
  assert.deepEqual(screenToImage(z, 256, 256, 60, 200), under);
  assert.deepEqual(panView({ center: [300, 400], zoom: 2 }, 50, 20).center, [275, 390]);
  assert.deepEqual(fitView(makeSource({ width: 130, height: 96 }), 256, 256), { center: [65, 48], zoom: 256 / 130 });
});

test('a tile quad is the pixels sampling the tile, and samples pixel centres like the NumPy reference', () => {
  const src = makeSource({ width: 130, height: 96, levels: 1 });
  const view = { center: [65.5, 48.5], zoom: 1 };
  const shift = sampleShift(view, 1, 256, 256, src.levels[0]);
  assert.deepEqual(shift, [0.5, 0.5]); // every pixel centre is on a texel edge: sample half a texel in
  const at = tilePlacement(view, 1, 256, 256, src.levels[0], 1, 2, shift); // the 2 x 32 edge tile at (128, 64)
  assert.deepEqual(at.size, [2, 32]);
  // the tile spans canvas x 190.5..192.5, y 143.5..175.5: pixel centres on its left and top edges are
  // in, those on its right and bottom edges (the image's) are not
  assert.deepEqual(at.quad, [190, 143, 192, 175]);
  // its neighbours share its edges pixel for pixel
  assert.equal(tilePlacement(view, 1, 256, 256, src.levels[0], 1, 1, shift).quad[2], 190);
  assert.equal(tilePlacement(view, 1, 256, 256, src.levels[0], 0, 2, shift).quad[3], 143);
  // Canvas column i samples level x = floor(texel position at the pixel centre), interpolated over the quad.
  const along = (k, i) => at.texels[k] + (i + 0.5 - at.quad[k]) * (at.texels[k + 2] - at.texels[k]) / (at.quad[k + 2] - at.quad[k]);
  for (let i = at.quad[0]; i < at.quad[2]; i++) {
    assert.equal(Math.floor(along(0, i)), Math.floor(view.center[0] + (i + 0.5 - 128) / view.zoom) - 128);
  }
  for (let j = at.quad[1]; j < at.quad[3]; j++) {
    assert.equal(Math.floor(along(1, j)), Math.floor(view.center[1] + (j + 0.5 - 128) / view.zoom) - 64);
  }
  // a quad reaching past the canvas is cut to it, its texel positions with it
  const zoomed = { center: [100.25, 30.75], zoom: 7.3 };
  const big = tilePlacement(zoomed, 1, 200, 100, src.levels[0], 0, 1, [0, 0]);
  assert.deepEqual(big.quad, [0, 0, 200, 100]);
  assert.deepEqual(big.texels.map((v) => Math.round(v * 1e9) / 1e9),
    [100.25 - 100 / 7.3 - 64, 30.75 - 50 / 7.3, 100.25 + 100 / 7.3 - 64, 30.75 + 50 / 7.3].map((v) => Math.round(v * 1e9) / 1e9));
  assert.equal(tilePlacement({ center: [5000, 5000], zoom: 1 }, 1, 256, 256, src.levels[0], 0, 0, [0, 0]), null);
});

test('the sample shift keeps every pixel on its texel, as far from texel edges as the zoom allows', () => {
  const src = makeSource({ width: 4000, height: 3000, levels: 3 });
  const cases = [[{ center: [65.5, 48.5], zoom: 1 }, 1, 0.5], [{ center: [64, 48], zoom: 2 }, 1, 0.25],
    [{ center: [100, 80], zoom: 0.5 }, 1, 0.5], [{ center: [123.4567, 89.1011], zoom: 1.7 }, 1.25, 0],
    [{ center: [1e6 + 0.5, 3e5 + 0.5], zoom: 4 }, 1, 0.125]];
  for (const [view, dpr, margin] of cases) {
    for (const lv of src.levels) {
      const W = 301, H = 200, d = lv.downsample, scale = 1 / (view.zoom * dpr * d);
      const shift = sampleShift(view, dpr, W, H, lv);
      for (const [k, n] of [[0, W], [1, H]]) {
        let worst = 1;
        for (let i = 0; i < n; i++) {
          const t = view.center[k] / d + (i + 0.5 - n / 2) * scale;
          assert.equal(Math.floor(t + shift[k]), Math.floor(t), `pixel ${i} of axis ${k} keeps its texel`);
          worst = Math.min(worst, t + shift[k] - Math.floor(t), Math.floor(t) + 1 - (t + shift[k]));
        }
        // at zoom 1 the margin is half a texel; where level and canvas pixels do not line up it is
        // what the fractions leave
        if (d === 1) assert.ok(worst >= margin - 1e-9, `margin ${worst} at zoom ${view.zoom}, dpr ${dpr}`);
      }
    }
  }
});

test('the quads of a level cover each pixel sampling the image exactly once, with the tile holding its centre', () => {
  const src = makeSource({ width: 300, height: 200, tile: 64, levels: 3 });
  const views = [[{ center: [150, 100], zoom: 1 }, 1], [{ center: [65.5, 48.5], zoom: 1 }, 1],
    [{ center: [123.4567, 89.1011], zoom: 1.7 }, 1.25], [{ center: [40.0625, 30.0625], zoom: 8 }, 1],
    [{ center: [150.3, 99.9], zoom: 0.37 }, 1], [{ center: [-20, 230], zoom: 0.9 }, 2]];
  const W = 173, H = 121;
  for (const [view, dpr] of views) {
    for (const lv of src.levels) {
      const shift = sampleShift(view, dpr, W, H, lv);
      const owner = new Int32Array(W * H).fill(-1);
      for (let ty = 0; ty < lv.tilesY; ty++) {
        for (let tx = 0; tx < lv.tilesX; tx++) {
          const at = tilePlacement(view, dpr, W, H, lv, ty, tx, shift);
          if (!at) continue;
          const [x0, y0, x1, y1] = at.quad;
          for (let y = y0; y < y1; y++) {
            for (let x = x0; x < x1; x++) {
              assert.equal(owner[y * W + x], -1, `pixel (${x}, ${y}) in two quads`);
              owner[y * W + x] = ty * 1000 + tx;
            }
          }
        }
      }
      const d = lv.downsample, scale = 1 / (view.zoom * dpr * d);
      for (let y = 0; y < H; y++) {
        for (let x = 0; x < W; x++) {
          const lx = Math.floor(view.center[0] / d + (x + 0.5 - W / 2) * scale);
          const ly = Math.floor(view.center[1] / d + (y + 0.5 - H / 2) * scale);
          const inside = lx >= 0 && ly >= 0 && lx < lv.size.x && ly < lv.size.y;
          const want = inside ? Math.floor(ly / lv.chunk.y) * 1000 + Math.floor(lx / lv.chunk.x) : -1;
          assert.equal(owner[y * W + x], want, `pixel (${x}, ${y}) of level ${d} at zoom ${view.zoom}`);
        }
      }
    }
  }
});
