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

/** Parses a safetensors buffer; every size and offset is checked against the buffer before use. */
export function decodeSafetensors(buf: Buffer): DecodedSafetensors {
  if (buf.length < 8)
    throw new WeightsError(`Not a safetensors file: ${buf.length} bytes is shorter than its header`);
  const headerLength = Number(buf.readBigUInt64LE(0));
  if (headerLength > MAX_HEADER_BYTES || 8 + headerLength > buf.length)
    throw new WeightsError(
      `Not a safetensors file or truncated: header of ${headerLength} bytes in a ${buf.length}-byte file`,
    );
  let parsed: unknown;
  try {
    parsed = JSON.parse(buf.subarray(8, 8 + headerLength).toString('utf8'));
  } catch {
    throw new WeightsError('Not a safetensors file: its header is not valid JSON');
  }
  if (!isPlainObject(parsed))
    throw new WeightsError('Not a safetensors file: its header is not a JSON object of tensors');
  const header = parsed;
  const dataStart = 8 + headerLength;
  const dataLength = buf.length - dataStart;
  const tensors: TensorMap = new Map();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (!isPlainObject(entry) || !Object.values(entry).every((v) => typeof v === 'string'))
        throw new WeightsError('The safetensors metadata must map names to strings');
      metadata = entry as Record<string, string>;
      continue;
    }
    if (!isPlainObject(entry)) throw new WeightsError(`Tensor ${name}: its header entry is not an object`);
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (e.dtype !== 'F32')
      throw new WeightsError(`Tensor ${name}: dtype ${String(e.dtype)} is not supported (F32 only)`);
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
    if (end < begin || end > dataLength || end - begin !== count * 4)
      throw new WeightsError(
        `Tensor ${name}: data offsets [${begin}, ${end}] do not fit its shape or the file`,
      );
    const data = new Float32Array(count);
    Buffer.from(data.buffer).set(buf.subarray(dataStart + begin, dataStart + end));
    tensors.set(name, { shape: shape as number[], data });
  }
  return { tensors, metadata };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
