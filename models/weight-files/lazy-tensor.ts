// A tensor of a weights file that is described (name, dtype, shape) but not yet read: the readers list
// every tensor of a checkpoint this way, and only the ones the backbone needs are read, one at a time,
// so a 528 MB file never sits in memory whole. Also the conversion of a tensor's stored bytes
// (little-endian) to float32.

import { WeightFileError } from './errors.js';

export type TensorDtype =
  'float32' | 'float64' | 'float16' | 'bfloat16' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

export const DTYPE_BYTES: Readonly<Record<TensorDtype, number>> = {
  float32: 4,
  float64: 8,
  float16: 2,
  bfloat16: 2,
  int64: 8,
  int32: 4,
  int16: 2,
  int8: 1,
  uint8: 1,
  bool: 1,
};

export interface LazyTensor {
  dtype: TensorDtype;
  shape: number[];
  /** The tensor's values as float32 (a floating-point dtype only). */
  read(): Promise<Float32Array>;
}

/** The tensors of a weights file by name, and what kind of file it was. */
export interface TensorFile {
  /** 'PyTorch zip checkpoint', 'PyTorch legacy checkpoint', 'safetensors'. */
  format: string;
  tensors: Map<string, LazyTensor>;
  /** Names of entries that are not tensors (skipped). */
  other: string[];
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/** Little-endian stored values to float32; integer dtypes are refused (no weight is an integer). */
export function toFloat32(bytes: Uint8Array, dtype: TensorDtype, count: number): Float32Array {
  if (bytes.length !== count * DTYPE_BYTES[dtype])
    throw new WeightFileError('malformed', `${bytes.length} bytes cannot hold ${count} ${dtype} values.`);
  const out = new Float32Array(count);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case 'float32':
      new Uint8Array(out.buffer).set(bytes);
      if (!isLittleEndianHost) for (let i = 0; i < count; i++) out[i] = v.getFloat32(4 * i, true);
      return out;
    case 'float64':
      for (let i = 0; i < count; i++) out[i] = v.getFloat64(8 * i, true);
      return out;
    case 'float16':
      for (let i = 0; i < count; i++) out[i] = halfToFloat(v.getUint16(2 * i, true));
      return out;
    case 'bfloat16': {
      // bfloat16 is the top half of a float32.
      const bits = new Uint32Array(count);
      for (let i = 0; i < count; i++) bits[i] = v.getUint16(2 * i, true) << 16;
      return new Float32Array(bits.buffer);
    }
    default:
      throw new WeightFileError('mismatch', `A ${dtype} tensor cannot be read as weights.`);
  }
}

const isLittleEndianHost = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
