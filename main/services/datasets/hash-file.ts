// Hashes a file (SHA-256) in one pass, keeping only its first and last few bytes, which the image probe
// uses to recognise the format and spot truncation: a 50,000-file scan never holds file contents beyond
// the few files being checked at that moment. Files up to SMALL_FILE_BYTES are read with a single read
// (a stream costs more than the read itself for a typical dataset image) and their bytes are handed back
// so the header probe does not open the file again; larger files are streamed in 256 KB chunks.
// Must not import electron or anything from main/electron, main/backend, main/server, main/cli or renderer.
import { createHash } from 'node:crypto';
import { openImageFile } from '../images/open-image-file.js';
import { imageErrorFromFileSystem } from '../images/image-error.js';
import { FORMAT_HEAD_BYTES, FORMAT_TAIL_BYTES } from '../images/image-format.js';

export interface FileDigest {
  sha256: string;
  bytes: number;
  /** The first FORMAT_HEAD_BYTES bytes (fewer if the file is shorter). */
  head: Uint8Array;
  /** The last FORMAT_TAIL_BYTES bytes (fewer if the file is shorter). */
  tail: Uint8Array;
  /** The whole file, for files of at most SMALL_FILE_BYTES; undefined for larger ones. */
  content?: Uint8Array;
}

/** Files up to this size are read at once (1 MiB). */
export const SMALL_FILE_BYTES = 1024 * 1024;
const CHUNK_BYTES = 256 * 1024;

/** Reads the file once. Throws ImageError ('unreadable', 'missing') when the OS refuses. */
export async function hashFile(path: string): Promise<FileDigest> {
  let handle;
  try {
    let stat;
    ({ handle, stat } = await openImageFile(path));
    const size = stat.size;
    if (size <= SMALL_FILE_BYTES) {
      const content = new Uint8Array(size);
      let filled = 0;
      while (filled < size) {
        const { bytesRead } = await handle.read(content, filled, size - filled, filled);
        if (bytesRead === 0) break; // the file shrank meanwhile
        filled += bytesRead;
      }
      const data = content.subarray(0, filled);
      return {
        sha256: createHash('sha256').update(data).digest('hex'),
        bytes: filled,
        head: data.slice(0, FORMAT_HEAD_BYTES),
        tail: data.slice(Math.max(0, filled - FORMAT_TAIL_BYTES)),
        content: data,
      };
    }
    return await hashLargeFile(handle);
  } catch (error) {
    throw imageErrorFromFileSystem(error, path);
  } finally {
    await handle?.close();
  }
}

async function hashLargeFile(handle: import('node:fs/promises').FileHandle): Promise<FileDigest> {
  const hash = createHash('sha256');
  const chunk = new Uint8Array(CHUNK_BYTES);
  const head = new Uint8Array(FORMAT_HEAD_BYTES);
  let headLength = 0;
  let tail: Uint8Array = new Uint8Array(0);
  let bytes = 0;
  for (;;) {
    const { bytesRead } = await handle.read(chunk, 0, CHUNK_BYTES, bytes);
    if (bytesRead === 0) break;
    const data = chunk.subarray(0, bytesRead);
    hash.update(data);
    if (headLength < FORMAT_HEAD_BYTES) {
      const take = Math.min(FORMAT_HEAD_BYTES - headLength, bytesRead);
      head.set(data.subarray(0, take), headLength);
      headLength += take;
    }
    tail = lastBytes(tail, data, FORMAT_TAIL_BYTES);
    bytes += bytesRead;
  }
  return { sha256: hash.digest('hex'), bytes, head: head.slice(0, headLength), tail };
}

function lastBytes(previous: Uint8Array, chunk: Uint8Array, keep: number): Uint8Array {
  if (chunk.length >= keep) return chunk.slice(chunk.length - keep);
  const joined = new Uint8Array(Math.min(keep, previous.length + chunk.length));
  const fromPrevious = joined.length - chunk.length;
  joined.set(previous.subarray(previous.length - fromPrevious), 0);
  joined.set(chunk, fromPrevious);
  return joined;
}
