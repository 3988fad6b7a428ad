// ONNX external data (tensor values kept in a separate file beside the model, for models over 2 GiB):
// parses a tensor's external_data entries and refuses locations that could leave the model's folder
// (absolute paths, drive letters, "..", NUL bytes) before any file is opened. Pure: the file access
// itself is a caller-supplied ExternalDataSource (see external-files.ts for the folder-based one).

import { OnnxError } from './errors.js';
import type { TensorProto } from './proto.js';

/** Where one tensor's bytes are: a path relative to the model's folder, a byte offset and length. */
export interface ExternalDataRef {
  /** Normalised relative path with '/' separators, never leaving the model's folder. */
  location: string;
  offset: number;
  /** Declared length in bytes, or null when the file does not say (then: to the end of the file). */
  length: number | null;
}

/** Reads the bytes of one external tensor; implementations must check the range against the file. */
export interface ExternalDataSource {
  read(ref: ExternalDataRef): Uint8Array;
}

/**
 * Normalises a relative location ("weights/../data.bin" -> "data.bin") and refuses one that is absolute
 * or climbs out of the model's folder. Both '/' and '\' count as separators, as on Windows.
 */
export function safeRelativeLocation(location: string): string {
  const refuse = (why: string): never => {
    throw new OnnxError(
      'external-data',
      `The model asks to read weights from "${location}", which ${why}; only files inside the model's folder are read.`,
    );
  };
  if (location.length === 0) refuse('is empty');
  if (location.includes('\0')) refuse('contains a NUL character');
  if (/^[a-zA-Z]:/.test(location)) refuse('names a drive');
  if (location.startsWith('/') || location.startsWith('\\')) refuse('is an absolute path');
  const parts: string[] = [];
  for (const part of location.split(/[/\\]+/)) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (parts.length === 0) refuse('leads out of the folder');
      parts.pop();
    } else parts.push(part);
  }
  if (parts.length === 0) refuse('names the folder itself');
  return parts.join('/');
}

function nonNegativeInteger(key: string, value: string, tensor: string): number {
  if (!/^\d{1,16}$/.test(value.trim()))
    throw new OnnxError(
      'external-data',
      `Tensor "${tensor}": external data ${key} "${value}" is not a byte count.`,
    );
  const n = Number(value.trim());
  if (!Number.isSafeInteger(n))
    throw new OnnxError('external-data', `Tensor "${tensor}": external data ${key} ${value} is too large.`);
  return n;
}

/** The external-data reference of a tensor whose data_location is EXTERNAL, checked. */
export function externalDataRef(t: TensorProto): ExternalDataRef {
  const name = t.name ?? '';
  let location: string | null = null;
  let offset = 0;
  let length: number | null = null;
  for (const { key, value } of t.externalData ?? []) {
    const v = value ?? '';
    if (key === 'location') location = v;
    else if (key === 'offset') offset = nonNegativeInteger('offset', v, name);
    else if (key === 'length') length = nonNegativeInteger('length', v, name);
  }
  if (location === null)
    throw new OnnxError('external-data', `Tensor "${name}" is stored externally but names no file.`);
  return { location: safeRelativeLocation(location), offset, length };
}
