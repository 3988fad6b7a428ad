// Half-precision conversion: exact values, ties to even, subnormals, clamping, and the rounding bound
// over many random values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRandom } from '../../../../models/core/random.js';
import { fromHalf, HALF_MAX, toHalf } from '../../../../models/core/half-float.js';

const round = (values: number[]) => [...fromHalf(toHalf(Float32Array.from(values)))];

test('exactly representable values survive, others round to nearest, ties to even', () => {
  assert.deepEqual(round([0, 1, -2, 0.5, 1024, HALF_MAX, 2 ** -14, 2 ** -24]), [
    0,
    1,
    -2,
    0.5,
    1024,
    HALF_MAX,
    2 ** -14,
    2 ** -24,
  ]);
  assert.equal(round([0.1])[0], 0.0999755859375);
  assert.equal(round([1 + 2 ** -11])[0], 1, 'halfway between 1 and 1 + 2^-10 goes to the even 1');
  assert.equal(round([1 + 3 * 2 ** -11])[0], 1 + 2 ** -9, 'halfway goes to the even neighbour above');
  assert.equal(round([2047.5])[0], 2048, 'rounding carries into the exponent');
  assert.equal(round([3 * 2 ** -26])[0], 2 ** -24, 'subnormals round too');
  assert.equal(round([2 ** -26])[0], 0);
  assert.deepEqual(round([1e6, -1e6, Infinity]), [HALF_MAX, -HALF_MAX, HALF_MAX]);
  assert.ok(Number.isNaN(round([Number.NaN])[0]));
});

test('relative rounding error is at most 2^-11 over the normal range', () => {
  const r = createRandom(3);
  const x = Float32Array.from({ length: 100_000 }, () => (r.next() - 0.5) * 2 ** (r.next() * 30 - 13));
  const y = fromHalf(toHalf(x));
  let worst = 0;
  for (let i = 0; i < x.length; i++)
    if (Math.abs(x[i]) >= 2 ** -14) worst = Math.max(worst, Math.abs(y[i] - x[i]) / Math.abs(x[i]));
  assert.ok(worst <= 2 ** -11, `worst ${worst}`);
  assert.ok(worst > 2 ** -12, 'the bound is nearly reached: half precision is really used');
});
