// The link follows the viewer once its changes pause, not during a drag.
import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { bindUrlState, decodeState } from '../src/url-state.js';

/** A viewer with one channel whose window `set` changes, and the page's location and history. */
function setUp() {
  const listeners = [];
  const state = {
    view: { center: [10, 20], zoom: 1 }, z: 0, t: 0, blend: 'additive',
    channels: [{ visible: true, color: '#00ff00', window: [0, 1000], gamma: 1, invert: false, colormap: 'color' }],
  };
  const viewer = {
    on: (ev, fn) => { if (ev === 'state') listeners.push(fn); return () => {}; },
    getState: () => structuredClone(state),
  };
  const writes = [];
  globalThis.location = { pathname: '/view/a', search: '', hash: '' };
  globalThis.history = { replaceState: (_s, _t, url) => { writes.push(url); globalThis.location.hash = url.slice(url.indexOf('#')); } };
  const set = (lo) => { state.channels[0].window = [lo, 1000]; listeners.forEach((f) => f()); };
  return { viewer, writes, set };
}

test('a drag writes the link once, when it stops, with the last setting', () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    const { viewer, writes, set } = setUp();
    bindUrlState(viewer, { delay: 250 });
    // two seconds of changes, one per 16 ms frame
    for (let i = 0; i < 125; i++) { set(i); mock.timers.tick(16); }
    assert.deepEqual(writes, []);
    mock.timers.tick(250);
    assert.equal(writes.length, 1);
    assert.deepEqual(decodeState(globalThis.location.hash).channels[0].window, [124, 1000]);
    // the same state again: nothing to write
    set(124);
    mock.timers.tick(300);
    assert.equal(writes.length, 1);
  } finally {
    mock.timers.reset();
  }
});

test('flush writes a pending change at once', () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    const { viewer, writes, set } = setUp();
    const bound = bindUrlState(viewer, { delay: 250 });
    set(7);
    bound.flush();
    assert.equal(writes.length, 1);
    assert.deepEqual(decodeState(globalThis.location.hash).channels[0].window, [7, 1000]);
    mock.timers.tick(300);
    assert.equal(writes.length, 1);
  } finally {
    mock.timers.reset();
  }
});
