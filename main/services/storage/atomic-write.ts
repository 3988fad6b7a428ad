// Writes files so that a reader, or a run killed at any moment, sees either the old content or the whole
// new content, never a part: write a temporary file in the same folder, flush it to disk, rename it over
// the target, then flush the folder entry. Must not import electron or anything from main/electron,
// main/server, main/cli or renderer.

import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export interface AtomicWriteOptions {
  /**
   * Flush the file and its folder to disk before returning (default true). Generated datasets of tens of
   * thousands of small files turn it off: a crash can lose recent files then, but never leaves a part of one.
   */
  durable?: boolean;
}

export async function writeFileAtomic(
  path: string,
  data: Uint8Array | string,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const durable = options.durable ?? true;
  // Hidden temporary name: a dataset scan running meanwhile skips it as a hidden file.
  const temporary = join(
    dirname(path),
    `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
  );
  try {
    const handle = await open(temporary, 'w');
    try {
      await handle.writeFile(data);
      if (durable) await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  if (durable) await syncFolder(dirname(path));
}

export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}

/** Makes a rename durable; some platforms (Windows) cannot open folders, which is harmless there. */
async function syncFolder(folder: string): Promise<void> {
  try {
    const handle = await open(folder, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // best effort
  }
}
