// Attention maps for display: bilinear up-sampling with half-pixel centres checked on a hand-made 2x2
// map against values worked out by hand (the same as PyTorch's interpolate(align_corners=False)), the
// two normalisations, and the combination of levels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AttentionMapError,
  MAP_COMBINATIONS,
  mapForOverlay,
  mapPeakedness,
  normaliseMap,
  resizeBilinear,
  type AttentionMap,
} from '../../../../main/services/heatmaps/index.js';
import { pythonMissing, runPython } from '../../../helpers/python.js';
import { skipOrFail } from '../../../helpers/skip-or-fail.js';

const map2x2: AttentionMap = { width: 2, height: 2, data: new Float32Array([0, 1, 2, 3]) };

function rows(m: AttentionMap): number[][] {
  return Array.from({ length: m.height }, (_, y) =>
    Array.from(m.data.subarray(y * m.width, (y + 1) * m.width)),
  );
}

test('2x2 -> 4x4: half-pixel centres, edges clamped', () => {
  // Output x samples source x' = (x + 0.5) / 2 - 0.5: -0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to 1).
  // Row r of the source is [2r, 2r + 1], so value(x', y') = x' + 2 y'.
  const cols = [0, 0.25, 0.75, 1];
  const expected = cols.map((yv) => cols.map((xv) => xv + 2 * yv));
  assert.deepEqual(rows(resizeBilinear(map2x2, 4, 4)), expected);
});

test('2x2 -> 3x5 (non-square, odd sizes) matches the formula', () => {
  const out = resizeBilinear(map2x2, 5, 3);
  const at = (i: number, n: number, m: number): number =>
    Math.min(n - 1, Math.max(0, ((i + 0.5) * n) / m - 0.5));
  for (let y = 0; y < 3; y++)
    for (let x = 0; x < 5; x++)
      assert.ok(Math.abs(out.data[y * 5 + x] - (at(x, 2, 5) + 2 * at(y, 2, 3))) < 1e-6, `(${x}, ${y})`);
});

test('resizing to the same size is the identity; values stay within [min, max]', () => {
  const m: AttentionMap = { width: 3, height: 2, data: new Float32Array([5, -1, 2, 0.5, 7, 3]) };
  assert.deepEqual(Array.from(resizeBilinear(m, 3, 2).data), Array.from(m.data));
  const big = resizeBilinear(m, 17, 11).data;
  assert.ok(Math.min(...big) >= -1 && Math.max(...big) <= 7);
});

test('a 1x1 map up-samples to a constant', () => {
  const out = resizeBilinear({ width: 1, height: 1, data: new Float32Array([0.3]) }, 4, 3);
  assert.ok(out.data.every((v) => Math.abs(v - 0.3) < 1e-7));
});

test("'max' divides by the maximum, 'minmax' stretches; flat and zero maps", () => {
  const m: AttentionMap = { width: 4, height: 1, data: new Float32Array([0.1, 0.2, 0.4, 0.3]) };
  const near = (a: ArrayLike<number>, b: number[]): void =>
    b.forEach((v, i) => assert.ok(Math.abs(a[i] - v) < 1e-6, `${a[i]} != ${v}`));
  near(normaliseMap(m, 'max').data, [0.25, 0.5, 1, 0.75]);
  near(normaliseMap(m, 'minmax').data, [0, 1 / 3, 1, 2 / 3]);
  const flat: AttentionMap = { width: 2, height: 1, data: new Float32Array([0.5, 0.5]) };
  near(normaliseMap(flat, 'max').data, [1, 1]);
  near(normaliseMap(flat, 'minmax').data, [0, 0]);
  near(normaliseMap({ width: 2, height: 1, data: new Float32Array([0, 0]) }, 'max').data, [0, 0]);
  near(normaliseMap({ width: 2, height: 1, data: new Float32Array([NaN, 2]) }, 'max').data, [0, 1]);
});

test('mapForOverlay: one level, or the combination stretched to [0, 1]', () => {
  const fine: AttentionMap = { width: 4, height: 4, data: new Float32Array(16).fill(1 / 16) };
  fine.data[5] = 0.5;
  const coarse: AttentionMap = { width: 2, height: 2, data: new Float32Array([0.7, 0.1, 0.1, 0.1]) };
  const level2 = mapForOverlay([fine, coarse], 8, 8, 2);
  assert.deepEqual(Array.from(level2.data), Array.from(resizeBilinear(normaliseMap(coarse), 8, 8).data));
  const combined = mapForOverlay([fine, coarse], 8, 8, 'combined').data;
  assert.equal(Math.max(...combined), 1);
  assert.equal(Math.min(...combined), 0);
  // The peak is where both maps are high: the top-left quadrant.
  const peak = combined.indexOf(1);
  assert.ok(peak % 8 < 4 && Math.floor(peak / 8) < 4);
  // Flat maps everywhere: the mean is kept.
  const flat = mapForOverlay([{ width: 2, height: 2, data: new Float32Array(4).fill(0.25) }], 3, 3).data;
  assert.ok(flat.every((v) => v === 1));
});

test('combinations of the levels: mean, peakedness-weighted, geometric mean, max', () => {
  // Level 1 (2 x 1) peaks on the left, level 2 (2 x 1) a little on the right; drawn at 2 x 1.
  const sharp: AttentionMap = { width: 2, height: 1, data: new Float32Array([0.9, 0.1]) };
  const mild: AttentionMap = { width: 2, height: 1, data: new Float32Array([0.45, 0.55]) };
  const draw = (c: (typeof MAP_COMBINATIONS)[number]): number[] =>
    Array.from(mapForOverlay([sharp, mild], 2, 1, 'combined', 'max', c).data);
  // Peakedness: 1 - H / log 2; the sharp map weighs more.
  const h = (p: number[]): number => -p.reduce((a, v) => a + v * Math.log(v), 0);
  assert.ok(Math.abs(mapPeakedness(sharp) - (1 - h([0.9, 0.1]) / Math.log(2))) < 1e-6);
  assert.equal(mapPeakedness({ width: 2, height: 1, data: new Float32Array([0.5, 0.5]) }), 0);
  assert.equal(mapPeakedness({ width: 2, height: 1, data: new Float32Array([0, 0]) }), 0);
  assert.ok(Math.abs(mapPeakedness({ width: 2, height: 1, data: new Float32Array([1, 0]) }) - 1) < 1e-6);
  // Normalised by max: sharp [1, 1/9], mild [9/11, 1]. Mean [0.909, 0.556]: left wins, stretched [1, 0].
  assert.deepEqual(draw('mean'), [1, 0]);
  assert.deepEqual(draw('peaked'), [1, 0]);
  // Geometric mean: sqrt((1 + e)(9/11 + e)) = 0.905 vs sqrt((1/9 + e) (1 + e)) = 0.335: left.
  assert.deepEqual(draw('geometric'), [1, 0]);
  // Max: 1 on both sides: flat, so it keeps its value.
  assert.deepEqual(draw('max'), [1, 1]);
  // Where the levels disagree the weighting decides: a flat-ish level against a sharp one.
  const flatRight: AttentionMap = { width: 2, height: 1, data: new Float32Array([0.3, 0.7]) };
  const sharpLeft: AttentionMap = { width: 2, height: 1, data: new Float32Array([0.6, 0.4]) };
  // Mean of [3/7, 1] and [1, 2/3]: right (0.833 > 0.714). Peakedness favours the surer level, [0.3, 0.7].
  assert.deepEqual(
    Array.from(mapForOverlay([flatRight, sharpLeft], 2, 1, 'combined', 'max', 'mean').data),
    [0, 1],
  );
  assert.deepEqual(
    Array.from(mapForOverlay([flatRight, sharpLeft], 2, 1, 'combined', 'max', 'peaked').data),
    [0, 1],
  );
  assert.throws(
    () => mapForOverlay([sharp], 2, 1, 'combined', 'max', 'median' as never),
    /Unknown combination "median"/,
  );
});

test('refusals in plain words', () => {
  assert.throws(() => mapForOverlay([], 4, 4), AttentionMapError);
  assert.throws(() => mapForOverlay([map2x2], 4, 4, 3), /only 1 maps exist/);
  assert.throws(
    () => resizeBilinear({ width: 2, height: 2, data: new Float32Array(3) }, 4, 4),
    /holds 3 values/,
  );
  assert.throws(() => resizeBilinear(map2x2, 0, 4), AttentionMapError);
});

test('equals PyTorch interpolate(bilinear, align_corners=False) on a random 3x5 map to 7x4', (t) => {
  const missing = skipOrFail(pythonMissing(['torch']));
  if (missing) return t.skip(missing);
  const src = Float32Array.from({ length: 15 }, (_, i) => Math.sin(i * 1.7) + 1);
  const script =
    'import json, sys, torch\n' +
    'import torch.nn.functional as F\n' +
    'x = torch.tensor(json.loads(sys.argv[1]), dtype=torch.float32).reshape(1, 1, 3, 5)\n' +
    "y = F.interpolate(x, size=(4, 7), mode='bilinear', align_corners=False)\n" +
    'print(json.dumps(y.flatten().tolist()))\n';
  const expected = JSON.parse(runPython(['-c', script, JSON.stringify(Array.from(src))])) as number[];
  const ours = resizeBilinear({ width: 5, height: 3, data: src }, 7, 4).data;
  expected.forEach((v, i) => assert.ok(Math.abs(ours[i] - v) < 1e-6, `${i}: ${ours[i]} vs ${v}`));
});
