// Moves weight arrays between PyTorch's layout (OIHW convs, [out, in] linears) and TensorFlow.js's
// (HWIO convs, [in, out] matrices). Pure array code, no tensors.

import { WeightsError, type NamedArray } from './weights.js';

/** OIHW -> HWIO (TensorFlow conv2d filter layout). */
export function oihwToHwio(a: NamedArray): NamedArray {
  const [o, i, h, w] = a.shape;
  const out = new Float32Array(a.data.length);
  for (let oo = 0; oo < o; oo++)
    for (let ii = 0; ii < i; ii++)
      for (let hh = 0; hh < h; hh++)
        for (let ww = 0; ww < w; ww++)
          out[((hh * w + ww) * i + ii) * o + oo] = a.data[((oo * i + ii) * h + hh) * w + ww];
  return { shape: [h, w, i, o], data: out };
}

/** HWIO -> OIHW. */
export function hwioToOihw(a: NamedArray): NamedArray {
  const [h, w, i, o] = a.shape;
  const out = new Float32Array(a.data.length);
  for (let oo = 0; oo < o; oo++)
    for (let ii = 0; ii < i; ii++)
      for (let hh = 0; hh < h; hh++)
        for (let ww = 0; ww < w; ww++)
          out[((oo * i + ii) * h + hh) * w + ww] = a.data[((hh * w + ww) * i + ii) * o + oo];
  return { shape: [o, i, h, w], data: out };
}

/** Transpose of a 2-D [rows, cols] array. */
export function transpose2d(a: NamedArray): NamedArray {
  if (a.shape.length !== 2) throw new WeightsError(`Expected a 2-D array, got shape [${a.shape}]`);
  const [r, c] = a.shape;
  const out = new Float32Array(a.data.length);
  for (let y = 0; y < r; y++) for (let x = 0; x < c; x++) out[x * r + y] = a.data[y * c + x];
  return { shape: [c, r], data: out };
}

/** A 1x1 conv weight [out, in, 1, 1] as the [in, out] matrix that multiplies NHWC features. */
export function pointwiseToMatrix(a: NamedArray): NamedArray {
  const [o, i] = a.shape;
  return transpose2d({ shape: [o, i], data: a.data });
}

export function matrixToPointwise(a: NamedArray): NamedArray {
  const t = transpose2d(a);
  return { shape: [t.shape[0], t.shape[1], 1, 1], data: t.data };
}

function isPointwiseHead(name: string): boolean {
  return !name.startsWith('features.') && ['project.', 'u.', 'wl.'].some((prefix) => name.startsWith(prefix));
}

/**
 * A parameter tensor in PyTorch layout -> the layout of its TensorFlow.js variable: 1x1 convs of the
 * attention (project, u, wl) as [in, out] matrices, 3x3 convs HWIO, linears [in, out]; vectors copied.
 */
export function toTfLayout(name: string, a: NamedArray): NamedArray {
  if (a.shape.length === 4 && a.shape[2] === 1 && a.shape[3] === 1 && !name.startsWith('features.'))
    return pointwiseToMatrix(a);
  if (a.shape.length === 4) return oihwToHwio(a);
  if (a.shape.length === 2) return transpose2d(a);
  return { shape: [...a.shape], data: a.data.slice() };
}

/** The inverse of toTfLayout. */
export function fromTfLayout(name: string, a: NamedArray): NamedArray {
  if (isPointwiseHead(name)) return matrixToPointwise(a);
  if (a.shape.length === 4) return hwioToOihw(a);
  if (a.shape.length === 2) return transpose2d(a);
  return { shape: [...a.shape], data: a.data.slice() };
}
