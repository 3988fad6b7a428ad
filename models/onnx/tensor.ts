// ONNX TensorProto <-> typed arrays: writes float32 weights as little-endian raw_data, and reads tensors
// back only after checking that the declared shape and the stored data agree (a hostile file must not
// make us allocate or read beyond what it holds). Pure: no file access, no runtime.

import { OnnxError } from './errors.js';
import { DataLocation, DataType, type TensorProto } from './proto.js';

/** Largest element count we accept for one tensor (2^31 - 1; also keeps byte sizes safe integers). */
export const MAX_TENSOR_ELEMENTS = 2 ** 31 - 1;

const hostIsLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Bytes per element of each fixed-size data type (STRING and UNDEFINED have none). */
const ELEMENT_BYTES: Record<number, number> = {
  [DataType.FLOAT]: 4,
  [DataType.UINT8]: 1,
  [DataType.INT8]: 1,
  [DataType.UINT16]: 2,
  [DataType.INT16]: 2,
  [DataType.INT32]: 4,
  [DataType.INT64]: 8,
  [DataType.BOOL]: 1,
  [DataType.FLOAT16]: 2,
  [DataType.DOUBLE]: 8,
  [DataType.UINT32]: 4,
  [DataType.UINT64]: 8,
  [DataType.COMPLEX64]: 8,
  [DataType.COMPLEX128]: 16,
  [DataType.BFLOAT16]: 2,
};

const TYPE_NAMES = new Map<number, string>(Object.entries(DataType).map(([k, v]) => [v, k]));

export function dataTypeName(dataType: number | undefined): string {
  return TYPE_NAMES.get(dataType ?? 0) ?? `unknown type ${dataType}`;
}

function label(t: TensorProto): string {
  return t.name ? `tensor "${t.name}"` : 'unnamed tensor';
}

/** Number of elements of a shape, refusing negative, fractional or absurdly large dimensions. */
export function elementCount(dims: readonly number[], what = 'tensor'): number {
  let n = 1;
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d < 0)
      throw new OnnxError('invalid', `The ${what} declares an impossible dimension ${d} in [${dims}].`);
    n *= d;
    if (n > MAX_TENSOR_ELEMENTS)
      throw new OnnxError(
        'invalid',
        `The ${what} declares shape [${dims}], more than ${MAX_TENSOR_ELEMENTS} elements; refusing it.`,
      );
  }
  return n;
}

export function isExternal(t: TensorProto): boolean {
  return t.dataLocation === DataLocation.EXTERNAL;
}

/** The number of values the typed field for this data type holds, or null when none applies. */
function typedFieldLength(t: TensorProto): number | null {
  switch (t.dataType) {
    case DataType.FLOAT:
    case DataType.COMPLEX64:
      return t.floatData?.length ?? 0;
    case DataType.INT32:
    case DataType.INT16:
    case DataType.INT8:
    case DataType.UINT16:
    case DataType.UINT8:
    case DataType.BOOL:
    case DataType.FLOAT16:
    case DataType.BFLOAT16:
      return t.int32Data?.length ?? 0;
    case DataType.INT64:
      return t.int64Data?.length ?? 0;
    case DataType.DOUBLE:
    case DataType.COMPLEX128:
      return t.doubleData?.length ?? 0;
    case DataType.UINT32:
    case DataType.UINT64:
      return t.uint64Data?.length ?? 0;
    case DataType.STRING:
      return t.stringData?.length ?? 0;
    default:
      return null;
  }
}

/** Bytes the tensor's values take in raw_data or an external file (not for STRING tensors). */
export function byteLength(t: TensorProto): number {
  const size = ELEMENT_BYTES[t.dataType ?? 0];
  if (size === undefined)
    throw new OnnxError('unsupported', `The ${label(t)} has data type ${dataTypeName(t.dataType)}.`);
  return elementCount(t.dims ?? [], label(t)) * size;
}

/**
 * Checks that a tensor's declared shape and type agree with the data it carries (external tensors: with
 * the length their external_data entry declares, if any; the loader checks the file itself).
 */
export function checkTensor(t: TensorProto): void {
  const n = elementCount(t.dims ?? [], label(t));
  if (t.dataType === undefined || t.dataType === DataType.UNDEFINED || !TYPE_NAMES.has(t.dataType))
    throw new OnnxError('invalid', `The ${label(t)} has no valid data type (found ${t.dataType ?? 'none'}).`);
  if (isExternal(t)) return;
  const complex = t.dataType === DataType.COMPLEX64 || t.dataType === DataType.COMPLEX128;
  if (t.rawData && t.rawData.length > 0) {
    const expected = byteLength(t);
    if (t.rawData.length !== expected)
      throw new OnnxError(
        'invalid',
        `The ${label(t)} declares shape [${t.dims}] of ${dataTypeName(t.dataType)} (${expected} bytes) but holds ${t.rawData.length} bytes.`,
      );
    return;
  }
  const found = typedFieldLength(t) ?? 0;
  const expected = complex ? 2 * n : n;
  if (found !== expected)
    throw new OnnxError(
      'invalid',
      `The ${label(t)} declares shape [${t.dims}] (${expected} values) but holds ${found} values.`,
    );
}

/** A float32 tensor in ONNX form, values as little-endian raw_data (what every runtime reads fastest). */
export function floatTensor(name: string, dims: readonly number[], data: Float32Array, docString?: string) {
  if (elementCount(dims, `tensor "${name}"`) !== data.length)
    throw new OnnxError('invalid', `Tensor "${name}": shape [${dims}] does not hold ${data.length} values.`);
  const tensor: TensorProto = {
    name,
    dims: [...dims],
    dataType: DataType.FLOAT,
    rawData: float32ToLittleEndian(data),
  };
  if (docString) tensor.docString = docString;
  return tensor;
}

/** An int64 tensor (shapes, axes) in ONNX form. */
export function int64Tensor(name: string, dims: readonly number[], values: readonly number[]): TensorProto {
  if (elementCount(dims, `tensor "${name}"`) !== values.length)
    throw new OnnxError(
      'invalid',
      `Tensor "${name}": shape [${dims}] does not hold ${values.length} values.`,
    );
  return { name, dims: [...dims], dataType: DataType.INT64, int64Data: [...values] };
}

function float32ToLittleEndian(data: Float32Array): Uint8Array {
  if (hostIsLittleEndian) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
  const out = new Uint8Array(data.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i], true);
  return out;
}

function float32FromLittleEndian(bytes: Uint8Array): Float32Array {
  const out = new Float32Array(bytes.length / 4);
  if (hostIsLittleEndian) new Uint8Array(out.buffer).set(bytes);
  else {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  }
  return out;
}

/** The values of a float32 tensor as a fresh Float32Array, after the size checks of checkTensor. */
export function tensorFloat32(t: TensorProto): Float32Array {
  if (t.dataType !== DataType.FLOAT)
    throw new OnnxError(
      'unsupported',
      `The ${label(t)} holds ${dataTypeName(t.dataType)} values; only FLOAT (float32) weights are read.`,
    );
  if (isExternal(t))
    throw new OnnxError(
      'external-data',
      `The ${label(t)} keeps its values in a separate file that was not loaded; open the model together with its folder.`,
    );
  checkTensor(t);
  if (t.rawData && t.rawData.length > 0) return float32FromLittleEndian(t.rawData);
  return Float32Array.from(t.floatData ?? []);
}

/** The values of an INT64 or INT32 tensor (shape constants, axes) as numbers. */
export function tensorIntegers(t: TensorProto): number[] {
  if (t.dataType !== DataType.INT64 && t.dataType !== DataType.INT32)
    throw new OnnxError('unsupported', `The ${label(t)} holds ${dataTypeName(t.dataType)}, not integers.`);
  if (isExternal(t))
    throw new OnnxError('external-data', `The ${label(t)} keeps its values in a separate file.`);
  checkTensor(t);
  if (t.rawData && t.rawData.length > 0) {
    const view = new DataView(t.rawData.buffer, t.rawData.byteOffset, t.rawData.byteLength);
    const out: number[] = [];
    if (t.dataType === DataType.INT32)
      for (let i = 0; i < t.rawData.length; i += 4) out.push(view.getInt32(i, true));
    else for (let i = 0; i < t.rawData.length; i += 8) out.push(Number(view.getBigInt64(i, true)));
    return out;
  }
  return [...((t.dataType === DataType.INT64 ? t.int64Data : t.int32Data) ?? [])];
}

/** The shape of a tensor as numbers, checked. */
export function tensorDims(t: TensorProto): number[] {
  const dims = t.dims ?? [];
  elementCount(dims, label(t));
  return [...dims];
}
