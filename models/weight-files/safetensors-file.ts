// Lists the tensors of a safetensors file (timm / Hugging Face copies of torchvision's weights) over a
// ByteSource: the header is read and checked (core/safetensors.ts), and each tensor's bytes only when
// asked for, so a 554 MB file is never read whole.

import { parseSafetensorsHeader, safetensorsHeaderLength } from '../core/safetensors.js';
import { WeightsError } from '../core/weights.js';
import type { ByteSource } from './byte-source.js';
import { WeightFileError } from './errors.js';
import { toFloat32, type LazyTensor, type TensorDtype, type TensorFile } from './lazy-tensor.js';

const DTYPES: Readonly<Record<string, TensorDtype>> = {
  F64: 'float64',
  F32: 'float32',
  F16: 'float16',
  BF16: 'bfloat16',
  I64: 'int64',
  I32: 'int32',
  I16: 'int16',
  I8: 'int8',
  U8: 'uint8',
  BOOL: 'bool',
};

/** True when the first bytes look like a safetensors header (a length, then a JSON object). */
export function looksLikeSafetensors(head: Uint8Array, fileLength: number): boolean {
  if (head.length < 9 || head[8] !== 0x7b) return false;
  try {
    safetensorsHeaderLength(head.subarray(0, 8), fileLength);
    return true;
  } catch {
    return false;
  }
}

export async function readSafetensorsFile(source: ByteSource): Promise<TensorFile> {
  try {
    const headerLength = safetensorsHeaderLength(await source.read(0, Math.min(8, source.size)), source.size);
    const dataStart = 8 + headerLength;
    const { entries } = parseSafetensorsHeader(
      await source.read(8, headerLength),
      source.size - dataStart,
      Object.keys(DTYPES),
    );
    const tensors = new Map<string, LazyTensor>();
    for (const e of entries) {
      const dtype = DTYPES[e.dtype];
      const count = e.shape.reduce((a, b) => a * b, 1);
      tensors.set(e.name, {
        dtype,
        shape: e.shape,
        read: async () => toFloat32(await source.read(dataStart + e.begin, e.end - e.begin), dtype, count),
      });
    }
    return { format: 'safetensors', tensors, other: [] };
  } catch (e) {
    if (e instanceof WeightsError) throw new WeightFileError('malformed', e.message, { cause: e });
    throw e;
  }
}
