// Our own 0.4 stores' `chromatile.absent` record: which chunks are the fill value without a request.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { absentChunks } from '../src/store/v2.js';

const GRID = [1, 2, 1, 2, 3]; // 12 chunks

test('run lengths over the grid in C order: present, absent, present, ...', () => {
  const isAbsent = absentChunks({ grid: GRID, runs: [0, 2, 5, 1, 3, 1] }, GRID);
  const numbered = (n) => [0, Math.floor(n / 6), 0, Math.floor(n / 3) % 2, n % 3];
  const absent = [...Array(12).keys()].filter((n) => isAbsent(numbered(n)));
  assert.deepEqual(absent, [0, 1, 7, 11]);
});

test('chunks outside the grid are never answered from the record', () => {
  const isAbsent = absentChunks({ grid: GRID, runs: [0, 12] }, GRID);
  assert.equal(isAbsent([0, 1, 0, 1, 2]), true);
  assert.equal(isAbsent([0, 1, 0, 1, 3]), false);
  assert.equal(isAbsent([0, 2, 0, 0, 0]), false);
  assert.equal(isAbsent([0, 0, 0, -1, 0]), false);
});

test('a missing, malformed or foreign record is not used', () => {
  for (const entry of [null, undefined, 'x', [], { grid: GRID }, { grid: [1, 2, 1, 2, 4], runs: [16] },
    { grid: GRID, runs: [11] }, { grid: GRID, runs: [13] }, { grid: GRID, runs: [6, -1, 7] },
    { grid: GRID, runs: [6.5, 5.5] }, { grid: GRID, runs: ['12'] }, { grid: [1, 2, 1, 6], runs: [12] }]) {
    assert.equal(absentChunks(entry, GRID), null, JSON.stringify(entry));
  }
});
