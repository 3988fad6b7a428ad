// Reads a box file as text, refusing one larger than MAX_BOX_FILE_BYTES (box-types.ts) before reading it.
// Must not import electron or anything from main/electron, main/backend, main/server, main/cli or renderer.

import { readFile, stat } from 'node:fs/promises';
import { BoxFileError, MAX_BOX_FILE_BYTES } from './box-types.js';

/** The file's text; BoxFileError when it is too large, the file system's error when it cannot be read. */
export async function readBoxText(file: string): Promise<string> {
  const info = await stat(file);
  if (info.size > MAX_BOX_FILE_BYTES)
    throw new BoxFileError(file, `the file is ${info.size} bytes, more than the ${MAX_BOX_FILE_BYTES} read.`);
  return readFile(file, 'utf8');
}
