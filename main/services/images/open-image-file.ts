// Opens a picture file for reading without ever blocking: a named pipe or device that takes the place of
// a file (between a folder walk and the read, or given by name) would make a plain open wait forever for
// a writer. Opens non-blocking, then accepts only regular files. Must not import electron or anything
// from main/electron, main/backend, main/server, main/cli or renderer.
import { constants, type Stats } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { ImageError } from './image-error.js';

/** O_NONBLOCK does not exist on Windows, where pipes do not live in folders. */
const READ_NO_WAIT = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

/**
 * The open file and its stats. Throws the fs error (ENOENT, EACCES, ...) for the caller to turn into an
 * ImageError, an EISDIR-coded error for a folder, and an 'unreadable' ImageError for a pipe, socket or
 * device.
 */
export async function openImageFile(path: string): Promise<{ handle: FileHandle; stat: Stats }> {
  const handle = await open(path, READ_NO_WAIT);
  try {
    const stat = await handle.stat();
    if (stat.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    if (!stat.isFile())
      throw new ImageError('unreadable', 'This is not a regular file (a pipe, socket or device): skipped.', {
        path,
      });
    return { handle, stat };
  } catch (error) {
    await handle.close();
    throw error;
  }
}
