// Reads and writes named float32 arrays in the safetensors format (an 8-byte little-endian header
// length, a JSON header of {name: {dtype, shape, data_offsets}}, then the raw little-endian data):
// a documented, widely readable format for checkpoints and test fixtures. Pure buffers, no file I/O.

import { sizeOf, WeightsError, type NamedArray } from './weights.js';

export type TensorMap = Map<string, NamedArray>;

/** Header entries are limited so a hostile file cannot make us allocate without bound. */
const MAX_HEADER_BYTES = 16 * 1024 * 1024;

export function encodeSafetensors(tensors: TensorMap, metadata: Record<string, string> = {}): Buffer {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const [name, t] of tensors) {
    const bytes = t.data.length * 4;
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8); // keeps the data 8-byte aligned
  const headerBytes = Buffer.from(json, 'utf8');
  const out = Buffer.alloc(8 + headerBytes.length + offset);
  out.writeBigUInt64LE(BigInt(headerBytes.length), 0);
  headerBytes.copy(out, 8);
  let at = 8 + headerBytes.length;
  for (const t of tensors.values()) {
    Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).copy(out, at);
    at += t.data.byteLength;
  }
  return out;
}

export interface DecodedSafetensors {
  tensors: TensorMap;
  metadata: Record<string, string>;
}

/** One tensor's header entry: where its bytes lie within the data section. */
export interface SafetensorsEntry {
  name: string;
  dtype: string;
  shape: number[];
  /** Byte range within the data section (after the header). */
  begin: number;
  end: number;
}

/** Bytes per element of the safetensors dtypes a header may name. */
export const SAFETENSORS_DTYPE_BYTES: Readonly<Record<string, number>> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

/** Reads the 8-byte header length at the start of a file of `fileLength` bytes, checking it fits. */
export function safetensorsHeaderLength(first8: Uint8Array, fileLength: number): number {
  if (first8.length < 8 || fileLength < 8)
    throw new WeightsError(`Not a safetensors file: ${fileLength} bytes is shorter than its header`);
  const headerLength = Number(Buffer.from(first8.buffer, first8.byteOffset, 8).readBigUInt64LE(0));
  if (headerLength > MAX_HEADER_BYTES || 8 + headerLength > fileLength)
    throw new WeightsError(
      `Not a safetensors file or truncated: header of ${headerLength} bytes in a ${fileLength}-byte file`,
    );
  return headerLength;
}

/**
 * Parses a safetensors JSON header and checks every entry against the data section's length and its
 * dtype's size; `dtypes` lists the dtypes the caller accepts.
 */
export function parseSafetensorsHeader(
  headerBytes: Uint8Array,
  dataLength: number,
  dtypes: readonly string[] = ['F32'],
): { entries: SafetensorsEntry[]; metadata: Record<string, string> } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(
      Buffer.from(headerBytes.buffer, headerBytes.byteOffset, headerBytes.length).toString('utf8'),
    );
  } catch {
    throw new WeightsError('Not a safetensors file: its header is not valid JSON');
  }
  if (!isPlainObject(parsed))
    throw new WeightsError('Not a safetensors file: its header is not a JSON object of tensors');
  const entries: SafetensorsEntry[] = [];
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(parsed)) {
    if (name === '__metadata__') {
      if (!isPlainObject(entry) || !Object.values(entry).every((v) => typeof v === 'string'))
        throw new WeightsError('The safetensors metadata must map names to strings');
      metadata = entry as Record<string, string>;
      continue;
    }
    if (!isPlainObject(entry)) throw new WeightsError(`Tensor ${name}: its header entry is not an object`);
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof e.dtype !== 'string' || !dtypes.includes(e.dtype) || !(e.dtype in SAFETENSORS_DTYPE_BYTES))
      throw new WeightsError(
        `Tensor ${name}: dtype ${String(e.dtype)} is not supported (${dtypes.join(', ')} only)`,
      );
    const shape = e.shape;
    const offsets = e.data_offsets;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0))
      throw new WeightsError(`Tensor ${name}: invalid shape`);
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((d) => Number.isInteger(d) && d >= 0)
    )
      throw new WeightsError(`Tensor ${name}: invalid data offsets`);
    const [begin, end] = offsets as [number, number];
    const count = sizeOf(shape as number[]);
    if (!Number.isSafeInteger(count)) throw new WeightsError(`Tensor ${name}: its shape is impossibly large`);
    if (end < begin || end > dataLength || end - begin !== count * SAFETENSORS_DTYPE_BYTES[e.dtype])
      throw new WeightsError(
        `Tensor ${name}: data offsets [${begin}, ${end}] do not fit its shape or the file`,
      );
    entries.push({ name, dtype: e.dtype, shape: shape as number[], begin, end });
  }
  return { entries, metadata };
}

/** Parses a safetensors buffer; every size and offset is checked against the buffer before use. */
export function decodeSafetensors(buf: Buffer): DecodedSafetensors {
  const headerLength = safetensorsHeaderLength(buf.subarray(0, 8), buf.length);
  const dataStart = 8 + headerLength;
  const { entries, metadata } = parseSafetensorsHeader(buf.subarray(8, dataStart), buf.length - dataStart);
  const tensors: TensorMap = new Map();
  for (const { name, shape, begin, end } of entries) {
    const data = new Float32Array((end - begin) / 4);
    Buffer.from(data.buffer).set(buf.subarray(dataStart + begin, dataStart + end));
    tensors.set(name, { shape, data });
  }
  return { tensors, metadata };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
