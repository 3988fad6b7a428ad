// Colour maps: the published end points of each map, the lookup table matching the closed forms, and
// inferno's lightness rising from start to end (its defining property).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  COLORMAP_NAMES,
  ColormapError,
  colormapLut,
  colormapRgb,
  type ColormapName,
} from '../../../../main/services/heatmaps/index.js';

function near(actual: readonly number[], expected: readonly number[], tolerance: number, what: string): void {
  actual.forEach((v, i) =>
    assert.ok(Math.abs(v - expected[i]) <= tolerance, `${what}[${i}]: ${v.toFixed(4)} vs ${expected[i]}`),
  );
}

test('jet: dark blue to dark red through cyan, green and yellow (exact)', () => {
  near(colormapRgb('jet', 0), [0, 0, 0.5], 1e-12, 'jet(0)');
  near(colormapRgb('jet', 0.25), [0, 0.5, 1], 1e-12, 'jet(0.25)');
  near(colormapRgb('jet', 0.5), [0.5, 1, 0.5], 1e-12, 'jet(0.5)');
  near(colormapRgb('jet', 1), [0.5, 0, 0], 1e-12, 'jet(1)');
});

test("inferno: matplotlib's end points within 0.015", () => {
  near(colormapRgb('inferno', 0), [0.001462, 0.000466, 0.013866], 0.015, 'inferno(0)');
  near(colormapRgb('inferno', 1), [0.988362, 0.998364, 0.644924], 0.015, 'inferno(1)');
});

test("turbo: the polynomial's own end points, and within 0.13 of the Turbo table's", () => {
  near(colormapRgb('turbo', 0), [0.13572138, 0.09140261, 0.1066733], 1e-9, 'turbo(0)');
  near(colormapRgb('turbo', 0), [0.18995, 0.07176, 0.23217], 0.13, 'turbo(0) vs table');
  near(colormapRgb('turbo', 1), [0.4796, 0.01583, 0.01055], 0.13, 'turbo(1) vs table');
  // The middle is green-yellow: green is the largest channel.
  const mid = colormapRgb('turbo', 0.5);
  assert.ok(mid[1] > mid[0] && mid[1] > mid[2]);
});

test('values outside [0, 1] are clamped; NaN counts as 0', () => {
  for (const name of COLORMAP_NAMES) {
    assert.deepEqual(colormapRgb(name, -3), colormapRgb(name, 0));
    assert.deepEqual(colormapRgb(name, 7), colormapRgb(name, 1));
    assert.deepEqual(colormapRgb(name, Number.NaN), colormapRgb(name, 0));
  }
});

test('the lookup tables are the closed forms rounded to 8 bits, channels in range', () => {
  for (const name of COLORMAP_NAMES) {
    const lut = colormapLut(name);
    assert.equal(lut.length, 768);
    for (const i of [0, 1, 77, 128, 254, 255]) {
      const rgb = colormapRgb(name, i / 255).map((v) => Math.round(v * 255));
      assert.deepEqual(Array.from(lut.subarray(i * 3, i * 3 + 3)), rgb, `${name}[${i}]`);
    }
    assert.equal(colormapLut(name), lut, 'made once and shared');
  }
});

test('inferno gets lighter all the way (perceptual order)', () => {
  const lut = colormapLut('inferno');
  let previous = -1;
  for (let i = 0; i < 256; i += 5) {
    const l = 0.2126 * lut[i * 3] + 0.7152 * lut[i * 3 + 1] + 0.0722 * lut[i * 3 + 2];
    assert.ok(l >= previous, `lightness drops at ${i}`);
    previous = l;
  }
});

test('an unknown colour map is refused with the choices', () => {
  assert.throws(
    () => colormapLut('viridis' as ColormapName),
    (e: unknown) => e instanceof ColormapError && /turbo, inferno, jet/.test(String(e)),
  );
});
