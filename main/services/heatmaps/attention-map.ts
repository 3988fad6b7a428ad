// Attention maps as images: normalisation of one map to [0, 1], bilinear up-sampling to the picture's
// size, and the combination of the three levels. Pure arithmetic on Float32Arrays; must not import sharp,
// electron or anything from main/electron, main/backend, main/server, main/cli or renderer.
//
// Normalisation (per map, at the map's own resolution, before up-sampling):
//   - 'max' (default): v / max(v). 0 stays "no attention" and ratios are kept, so a map that spreads its
//     attention evenly shows evenly (bright everywhere), instead of its small differences being stretched
//     into a confident-looking blob. Softmax maps (values sum to 1) and sigmoid maps (values in (0, 1))
//     are both shown as "share of this map's peak".
//   - 'minmax': (v - min) / (max - min). Uses the whole colour range for every map: shows where the
//     peak is even when the map is nearly flat, at the price of exaggerating small differences.
//   A map whose values are all equal (or all 0) becomes all 0 under 'minmax' and all 1 under 'max' (all 0
//   if they are all 0). Negative values (not produced by our models) are clipped to 0 under 'max'.
// Up-sampling: bilinear with half-pixel centres (output pixel x samples the map at
// (x + 0.5) * w / W - 0.5, clamped to the edge pixels), as PyTorch's interpolate(align_corners=False)
// (compared in the tests) and OpenCV's INTER_LINEAR. It keeps values inside [min, max] of the map.
// Combined: a combination (MAP_COMBINATIONS) of the normalised, up-sampled maps, stretched to [0, 1]
// by its own minimum and maximum:
//   - 'mean': the plain mean of the levels;
//   - 'peaked': the mean weighted by each level's peakedness, 1 - H(p) / log(n) where p is the map as a
//     distribution over its n cells (values below 0 as 0) and H its entropy: a level that spreads its
//     attention evenly has weight 0, one that puts it all on one cell weight 1 (all weights 0: the mean);
//   - 'geometric': the geometric mean, exp(mean(log(v + 1e-3))): high only where every level is high;
//   - 'max': the largest value of any level.
// DEFAULT_COMBINATION is what the app and `classify` draw; it was chosen by measurement (bench/
// combine-maps.ts, bench/RESULTS.md).
// About the stretch: without it, a diffuse coarse level (level 3 is 4 x 4 at S = 64 and often spread out)
// adds a near-constant offset that squeezes the picture into the middle of the colour map; with it, 1
// marks the highest mean (where the levels together look most) and 0 the lowest (looked at on the
// sample shapes: the unstretched mean tinted whole pictures cyan, the stretched one shows the peaks in
// red). A combination that is flat everywhere keeps its mean value.

/** One attention map, row-major (index y * width + x). */
export interface AttentionMap {
  width: number;
  height: number;
  data: Float32Array;
}

export type MapNormalisation = 'max' | 'minmax';
export const MAP_NORMALISATIONS: readonly MapNormalisation[] = ['max', 'minmax'];

export class AttentionMapError extends Error {
  override name = 'AttentionMapError';
}

export function checkMap(map: AttentionMap, what = 'The attention map'): void {
  const { width, height, data } = map;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1)
    throw new AttentionMapError(`${what} has an impossible size ${width} x ${height}.`);
  if (data.length !== width * height)
    throw new AttentionMapError(
      `${what} is ${width} x ${height} but holds ${data.length} values instead of ${width * height}.`,
    );
}

/** The map scaled to [0, 1] (see the module comment); a new array. Non-finite values count as 0. */
export function normaliseMap(map: AttentionMap, mode: MapNormalisation = 'max'): AttentionMap {
  checkMap(map);
  const src = map.data;
  const out = new Float32Array(src.length);
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < src.length; i++) {
    const v = Number.isFinite(src[i]) ? src[i] : 0;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (mode === 'minmax') {
    const range = max - min;
    if (range > 0)
      for (let i = 0; i < src.length; i++) out[i] = ((Number.isFinite(src[i]) ? src[i] : 0) - min) / range;
  } else if (mode === 'max') {
    if (max > 0)
      for (let i = 0; i < src.length; i++) {
        const v = Number.isFinite(src[i]) ? src[i] : 0;
        out[i] = v > 0 ? v / max : 0;
      }
  } else {
    throw new AttentionMapError(
      `Unknown normalisation "${String(mode)}". Should be one of: ${MAP_NORMALISATIONS.join(', ')}.`,
    );
  }
  return { width: map.width, height: map.height, data: out };
}

/** Source index pairs and weights of a 1-D half-pixel-centre linear resampling from n to m samples. */
function axisWeights(n: number, m: number): { i0: Int32Array; i1: Int32Array; f: Float32Array } {
  const i0 = new Int32Array(m);
  const i1 = new Int32Array(m);
  const f = new Float32Array(m);
  const scale = n / m;
  for (let x = 0; x < m; x++) {
    let s = (x + 0.5) * scale - 0.5;
    if (s < 0) s = 0;
    if (s > n - 1) s = n - 1;
    const lo = Math.floor(s);
    i0[x] = lo;
    i1[x] = Math.min(lo + 1, n - 1);
    f[x] = s - lo;
  }
  return { i0, i1, f };
}

/**
 * Adds bilinear (half-pixel centres) samples of `map` at width x height, times `weight`, into `out`.
 * Separable: each map row is interpolated along x once, then output rows blend two of those rows.
 */
function addResized(
  map: AttentionMap,
  width: number,
  height: number,
  out: Float32Array,
  weight: number,
): void {
  const xs = axisWeights(map.width, width);
  const ys = axisWeights(map.height, height);
  const src = map.data;
  const w = map.width;
  const rows = new Float32Array(map.height * width);
  for (let r = 0; r < map.height; r++) {
    const o = r * width;
    const s = r * w;
    for (let x = 0; x < width; x++) {
      const a = src[s + xs.i0[x]];
      rows[o + x] = a + (src[s + xs.i1[x]] - a) * xs.f[x];
    }
  }
  for (let y = 0; y < height; y++) {
    const r0 = ys.i0[y] * width;
    const r1 = ys.i1[y] * width;
    const fy = ys.f[y];
    const o = y * width;
    for (let x = 0; x < width; x++) {
      const top = rows[r0 + x];
      out[o + x] += (top + (rows[r1 + x] - top) * fy) * weight;
    }
  }
}

/** Bilinear up- (or down-) sampling with half-pixel centres to width x height; a new array. */
export function resizeBilinear(map: AttentionMap, width: number, height: number): AttentionMap {
  checkMap(map);
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1)
    throw new AttentionMapError(`Cannot resize a map to ${width} x ${height}.`);
  const out = new Float32Array(width * height);
  addResized(map, width, height, out, 1);
  return { width, height, data: out };
}

export type MapLevel = 1 | 2 | 3 | 'combined';
export const MAP_LEVELS: readonly MapLevel[] = [1, 2, 3, 'combined'];

export type MapCombination = 'mean' | 'peaked' | 'geometric' | 'max';
export const MAP_COMBINATIONS: readonly MapCombination[] = ['mean', 'peaked', 'geometric', 'max'];
export const DEFAULT_COMBINATION: MapCombination = 'mean';

/** 1 - H(p) / log(n) of the map as a distribution over its cells (see the module comment); 0 if flat. */
export function mapPeakedness(map: AttentionMap): number {
  checkMap(map);
  const n = map.data.length;
  if (n < 2) return 0;
  let sum = 0;
  for (const v of map.data) if (v > 0) sum += v;
  if (!(sum > 0) || !Number.isFinite(sum)) return 0;
  let h = 0;
  for (const v of map.data)
    if (v > 0) {
      const p = v / sum;
      h -= p * Math.log(p);
    }
  return Math.max(0, 1 - h / Math.log(n));
}

/**
 * The map to draw over a width x height picture: level k (1-based index into `maps`) or the combination
 * of all given maps, normalised and up-sampled as the module comment says. Values in [0, 1].
 */
export function mapForOverlay(
  maps: readonly AttentionMap[],
  width: number,
  height: number,
  level: MapLevel = 'combined',
  normalisation: MapNormalisation = 'max',
  combination: MapCombination = DEFAULT_COMBINATION,
): AttentionMap {
  if (maps.length === 0) throw new AttentionMapError('No attention map was given: the model has none.');
  if (level !== 'combined') {
    if (!MAP_LEVELS.includes(level))
      throw new AttentionMapError(
        `Unknown attention level "${String(level)}". Should be one of: ${MAP_LEVELS.join(', ')}.`,
      );
    const map = maps[level - 1];
    if (!map)
      throw new AttentionMapError(
        `Attention level ${level} was asked for, but only ${maps.length} maps exist.`,
      );
    return resizeBilinear(normaliseMap(map, normalisation), width, height);
  }
  const out = combineLevels(maps, width, height, normalisation, combination);
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < out.length; i++) {
    if (out[i] < lo) lo = out[i];
    if (out[i] > hi) hi = out[i];
  }
  // Stretched to [0, 1]; a flat combination (every map flat) keeps its value.
  if (hi > lo) for (let i = 0; i < out.length; i++) out[i] = (out[i] - lo) / (hi - lo);
  return { width, height, data: out };
}

/** The combination of the levels before the stretch (see the module comment). */
function combineLevels(
  maps: readonly AttentionMap[],
  width: number,
  height: number,
  normalisation: MapNormalisation,
  combination: MapCombination,
): Float32Array {
  const out = new Float32Array(width * height);
  const normalised = maps.map((m) => normaliseMap(m, normalisation));
  if (combination === 'mean' || combination === 'peaked') {
    let weights = maps.map((m) => (combination === 'peaked' ? mapPeakedness(m) : 1));
    let total = weights.reduce((a, w) => a + w, 0);
    if (!(total > 0)) {
      weights = maps.map(() => 1);
      total = maps.length;
    }
    normalised.forEach((m, k) => addResized(m, width, height, out, weights[k] / total));
    return out;
  }
  if (combination === 'geometric') {
    const logs = normalised.map((m) => ({
      ...m,
      data: Float32Array.from(m.data, (v) => Math.log(v + 1e-3)),
    }));
    for (const m of logs) addResized(m, width, height, out, 1 / maps.length);
    for (let i = 0; i < out.length; i++) out[i] = Math.exp(out[i]);
    return out;
  }
  if (combination === 'max') {
    out.fill(-Infinity);
    for (const m of normalised) {
      const r = resizeBilinear(m, width, height).data;
      for (let i = 0; i < out.length; i++) if (r[i] > out[i]) out[i] = r[i];
    }
    return out;
  }
  throw new AttentionMapError(
    `Unknown combination "${String(combination)}". Should be one of: ${MAP_COMBINATIONS.join(', ')}.`,
  );
}
