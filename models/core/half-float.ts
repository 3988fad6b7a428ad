// IEEE 754 half precision (binary16) storage for cached features: float32 -> float16 bits with
// round-to-nearest-even, and back through a 65,536-entry table. Half precision keeps 11 significant bits
// (relative rounding error at most 2^-11, about 4.9e-4) over magnitudes 6.1e-5 .. 65504; values beyond
// 65504 are clamped to it rather than becoming infinite, NaN stays NaN. Pure: no I/O, no tensors.

export const HALF_MAX = 65504;

/** Writes the binary16 bits of each value of `source` into `out` (from `offset`); returns `out`. */
export function toHalf(
  source: Float32Array,
  out: Uint16Array = new Uint16Array(source.length),
  offset = 0,
): Uint16Array {
  const bits = new Uint32Array(source.buffer, source.byteOffset, source.length);
  for (let i = 0; i < bits.length; i++) {
    const b = bits[i];
    const sign = (b >>> 16) & 0x8000;
    const exp = (b >>> 23) & 0xff;
    const mant = b & 0x7fffff;
    let h: number;
    if (exp === 0xff)
      h = mant !== 0 ? 0x7e00 : 0x7bff; // NaN stays NaN; +-infinity clamps to +-65504
    else {
      const e = exp - 112; // rebias 127 -> 15
      if (e >= 0x1f) h = 0x7bff;
      else if (e <= 0) {
        if (e < -10)
          h = 0; // below half the smallest subnormal: zero
        else {
          const m = mant | 0x800000;
          const shift = 14 - e;
          h = m >>> shift;
          const rest = m & ((1 << shift) - 1);
          const half = 1 << (shift - 1);
          if (rest > half || (rest === half && (h & 1) === 1)) h += 1;
        }
      } else {
        h = (e << 10) | (mant >>> 13);
        const rest = mant & 0x1fff;
        if (rest > 0x1000 || (rest === 0x1000 && (h & 1) === 1)) h += 1; // may carry into the exponent
        if (h >= 0x7c00) h = 0x7bff;
      }
    }
    out[offset + i] = sign | h;
  }
  return out;
}

let table: Float32Array | undefined;

function halfTable(): Float32Array {
  if (table) return table;
  table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >>> 10) & 0x1f;
    const mant = h & 0x3ff;
    table[h] =
      exp === 0
        ? sign * mant * 2 ** -24
        : exp === 0x1f
          ? mant !== 0
            ? Number.NaN
            : sign * Infinity
          : sign * (1 + mant / 1024) * 2 ** (exp - 15);
  }
  return table;
}

/** Reads `count` binary16 values of `source` from `start` into `out` at `offset`; returns `out`. */
export function fromHalf(
  source: Uint16Array,
  out: Float32Array = new Float32Array(source.length),
  offset = 0,
  start = 0,
  count = source.length - start,
): Float32Array {
  const t = halfTable();
  for (let i = 0; i < count; i++) out[offset + i] = t[source[start + i]];
  return out;
}
