// Colour maps for attention heat-maps, computed from published closed-form approximations (our own code,
// the coefficients are the published ones) and tabulated once as 256-entry lookup tables:
//   - turbo: Google's polynomial approximation of Turbo (Anton Mikhailov's colour map; polynomial fit by
//     Ruofei Du, 2019): degree-5 polynomial per channel. Dark blue -> cyan -> green -> yellow -> dark red.
//     The fit is loosest at the very ends (t = 0 and 1): up to 0.13 per channel from the published table.
//   - inferno: Matt Zucker's degree-6 polynomial fit of matplotlib's inferno (CC0, shadertoy WlfXRN);
//     within 0.015 per channel of matplotlib's table at both ends. Perceptually uniform: black -> purple
//     -> orange -> pale yellow.
//   - jet: MATLAB's classic jet written as three clamped triangles, r = 1.5 - |4t - 3| and so on: dark blue
//     -> cyan -> yellow -> dark red. Not perceptually uniform; offered because many users know it.
// Pure: imports nothing; must not import electron or anything from main/electron, main/backend, main/server, main/cli
// or renderer.

export type ColormapName = 'turbo' | 'inferno' | 'jet';
export const COLORMAP_NAMES: readonly ColormapName[] = ['turbo', 'inferno', 'jet'];

/** An RGB colour with channels in [0, 1]. */
export type RgbFloat = [number, number, number];

const clamp01 = (v: number): number => (v < 0 ? 0 : v > 1 ? 1 : v);

// Turbo: value = dot([1, t, t^2, t^3], k4) + dot([t^4, t^5], k2) per channel.
const TURBO_K4: readonly (readonly number[])[] = [
  [0.13572138, 4.6153926, -42.66032258, 132.13108234],
  [0.09140261, 2.19418839, 4.84296658, -14.18503333],
  [0.1066733, 12.64194608, -60.58204836, 110.36276771],
];
const TURBO_K2: readonly (readonly number[])[] = [
  [-152.94239396, 59.28637943],
  [4.27729857, 2.82956604],
  [-89.90310912, 27.34824973],
];

function turbo(t: number): RgbFloat {
  const t2 = t * t;
  const t3 = t2 * t;
  const t4 = t2 * t2;
  const t5 = t4 * t;
  const channel = (c: number): number => {
    const [a0, a1, a2, a3] = TURBO_K4[c];
    const [b0, b1] = TURBO_K2[c];
    return clamp01(a0 + a1 * t + a2 * t2 + a3 * t3 + b0 * t4 + b1 * t5);
  };
  return [channel(0), channel(1), channel(2)];
}

// Inferno: c0 + t (c1 + t (c2 + ... + t c6)), coefficients c0..c6 as [r, g, b].
const INFERNO: readonly RgbFloat[] = [
  [0.0002189403691192265, 0.001651004631001012, -0.01948089843709184],
  [0.1065134194856116, 0.5639564367884091, 3.932712388889277],
  [11.60249308247187, -3.972853965665698, -15.9423941062914],
  [-41.70399613139459, 17.43639888205313, 44.35414519872813],
  [77.162935699427, -33.40235894210092, -81.80730925738993],
  [-71.31942824499214, 32.62606426397723, 73.20951985803202],
  [25.13112622477341, -12.24266895238567, -23.07032500287172],
];

function inferno(t: number): RgbFloat {
  const out: RgbFloat = [0, 0, 0];
  for (let c = 0; c < 3; c++) {
    let v = INFERNO[6][c];
    for (let k = 5; k >= 0; k--) v = INFERNO[k][c] + t * v; // Horner
    out[c] = clamp01(v);
  }
  return out;
}

function jet(t: number): RgbFloat {
  const tri = (centre: number): number => clamp01(1.5 - Math.abs(4 * t - centre));
  return [tri(3), tri(2), tri(1)];
}

const FUNCTIONS: Record<ColormapName, (t: number) => RgbFloat> = { turbo, inferno, jet };

export class ColormapError extends Error {
  override name = 'ColormapError';
}

function checkName(name: string): asserts name is ColormapName {
  if (!COLORMAP_NAMES.includes(name as ColormapName))
    throw new ColormapError(`Unknown colour map "${name}". Should be one of: ${COLORMAP_NAMES.join(', ')}.`);
}

/** The colour of value t (clamped to [0, 1]) in the named map, channels in [0, 1], unrounded. */
export function colormapRgb(name: ColormapName, t: number): RgbFloat {
  checkName(name);
  return FUNCTIONS[name](clamp01(Number.isNaN(t) ? 0 : t));
}

const luts = new Map<ColormapName, Uint8Array>();

/**
 * The named map as a 256-entry table of 8-bit RGB (768 bytes, entry i is the colour of t = i / 255).
 * Made once per map and shared: do not modify it.
 */
export function colormapLut(name: ColormapName): Uint8Array {
  checkName(name);
  let lut = luts.get(name);
  if (!lut) {
    lut = new Uint8Array(256 * 3);
    for (let i = 0; i < 256; i++) {
      const rgb = FUNCTIONS[name](i / 255);
      for (let c = 0; c < 3; c++) lut[i * 3 + c] = Math.round(rgb[c] * 255);
    }
    luts.set(name, lut);
  }
  return lut;
}
