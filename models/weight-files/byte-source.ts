// Random access to the bytes of a weights file without holding the whole file: the readers ask for the
// ranges they need (a zip's central directory, one tensor's storage). The file-handle implementation
// lives in main/services; `bufferSource` serves bytes already in memory (tests, small files).

import { WeightFileError } from './errors.js';

export interface ByteSource {
  /** The file's length in bytes. */
  readonly size: number;
  /** Exactly `length` bytes from `offset`; a range past the end is an error. */
  read(offset: number, length: number): Promise<Uint8Array>;
}

/** Checks a requested range against the source's size (shared by every implementation). */
export function checkRange(size: number, offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0)
    throw new WeightFileError('malformed', `Invalid byte range ${offset} + ${length}.`);
  if (offset + length > size)
    throw new WeightFileError(
      'malformed',
      `The file is truncated: bytes ${offset} to ${offset + length} were needed, but it has ${size}.`,
    );
}

export function bufferSource(bytes: Uint8Array): ByteSource {
  return {
    size: bytes.length,
    read(offset, length) {
      checkRange(bytes.length, offset, length);
      return Promise.resolve(bytes.subarray(offset, offset + length));
    },
  };
}
