// The view transform: screen <-> image, zoom about a point, tile quads and sample origins.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitView, imageToScreen, panView, screenToImage, tilePlacement, viewRect, zoomAbout } from '../src/view.js';
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

test('a tile quad is grown by a pixel and samples pixel centres like the NumPy reference', () => {
  const src = makeSource({ width: 130, height: 96, levels: 1 });
  const view = { center: [65.5, 48.5], zoom: 1 };
  const at = tilePlacement(view, 1, 256, 256, src.levels[0], 1, 2); // the 2 x 32 edge tile at (128, 64)
  assert.deepEqual(at.size, [2, 32]);
  assert.deepEqual(at.quad, [128 - 65.5 + 128 - 1, 64 - 48.5 + 128 - 1, 130 - 65.5 + 128 + 1, 96 - 48.5 + 128 + 1]);
  // Canvas column i samples level x = floor(origin + (i + 0.5) * scale) inside the tile.
  for (let i = 185; i < 196; i++) {
    const inTile = Math.floor(at.origin[0] + (i + 0.5) * at.scale);
    const reference = Math.floor(view.center[0] + (i + 0.5 - 128) / view.zoom) - 128;
    assert.equal(inTile, reference);
  }
  assert.equal(tilePlacement({ center: [5000, 5000], zoom: 1 }, 1, 256, 256, src.levels[0], 0, 0), null);
});
