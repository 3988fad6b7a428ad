// Writes files so that a reader, or a run killed at any moment, sees either the old content or the whole
// new content, never a part: write a temporary file in the same folder, flush it to disk, rename it over
// the target, then flush the folder entry. A failed write (disk full, no permission, read-only disk) is
// reported as a StorageError in plain words and leaves the previous file as it was. Must not import
// electron or anything from main/electron, main/backend, main/server, main/cli or renderer.

import { randomBytes } from 'node:crypto';
import { open, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export interface AtomicWriteOptions {
  /**
   * Flush the file and its folder to disk before returning (default true). Generated datasets of tens of
   * thousands of small files turn it off: a crash can lose recent files then, but never leaves a part of one.
   */
  durable?: boolean;
}

/** A file could not be saved. `code` is the OS's error code (ENOSPC, EACCES, ...) when there is one. */
export class StorageError extends Error {
  override name = 'StorageError';
  readonly code: string | undefined;
  readonly path: string;

  constructor(path: string, cause: unknown) {
    const code = (cause as NodeJS.ErrnoException | undefined)?.code;
    super(describeWriteFailure(path, code, cause), { cause });
    this.code = code;
    this.path = path;
  }
}

function describeWriteFailure(path: string, code: string | undefined, cause: unknown): string {
  const unchanged = 'The previous version of the file, if any, is unchanged.';
  switch (code) {
    case 'ENOSPC':
      return `Could not save ${path}: the disk is full. Free some space and try again. ${unchanged}`;
    case 'EDQUOT':
      return `Could not save ${path}: your disk quota is used up. Free some space and try again. ${unchanged}`;
    case 'EFBIG':
      return `Could not save ${path}: the file is larger than this disk or your limits allow. ${unchanged}`;
    case 'EROFS':
      return `Could not save ${path}: the disk is read-only. Choose a folder on a writable disk. ${unchanged}`;
    case 'EACCES':
    case 'EPERM':
      return `Could not save ${path}: permission denied. Give your user write access to its folder. ${unchanged}`;
    case 'ENOENT':
    case 'ENOTDIR':
      return `Could not save ${path}: its folder does not exist (was it moved or deleted?).`;
    case 'EISDIR':
      return `Could not save ${path}: a folder of that name is in the way.`;
    case 'EIO':
      return `Could not save ${path}: the disk reported an input/output error. Check the disk. ${unchanged}`;
    default:
      return `Could not save ${path} (${code ?? (cause instanceof Error ? cause.message : String(cause))}). ${unchanged}`;
  }
}

/** Temporary names: `.<target name>.<pid>.<8 hex>.tmp`, hidden so a dataset scan skips them. */
const TEMPORARY = /^\.(.+)\.(\d+)\.[0-9a-f]{8}\.tmp$/;

export async function writeFileAtomic(
  path: string,
  data: Uint8Array | string,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const durable = options.durable ?? true;
  const temporary = join(
    dirname(path),
    `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
  );
  try {
    const handle = await open(temporary, 'w');
    let failure: unknown;
    try {
      await handle.writeFile(data);
      if (durable) await handle.sync();
    } catch (error) {
      failure = error;
    }
    try {
      await handle.close(); // network file systems can report a failed write only here
    } catch (error) {
      failure ??= error;
    }
    if (failure !== undefined) throw failure;
    await rename(temporary, path);
  } catch (error) {
    // Never let the clean-up hide the real reason (a full disk can make rm fail too).
    await rm(temporary, { force: true }).catch(() => undefined);
    throw new StorageError(path, error);
  }
  if (durable) await syncFolder(dirname(path));
}

export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}

function processIsAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Deletes the temporary files a killed process left in `folder` (those whose writer is no longer
 * running); the targets themselves are never touched. Returns the names removed. Call it when opening a
 * folder that a crashed process may have been writing, e.g. a run folder before resuming.
 */
export async function removeStaleTemporaries(folder: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(folder);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const match = TEMPORARY.exec(name);
    if (!match || processIsAlive(Number(match[2]))) continue;
    try {
      await rm(join(folder, name), { force: true });
      removed.push(name);
    } catch {
      // still there next time
    }
  }
  return removed;
}

/** True for a name writeFileAtomic uses for its temporary files. */
export function isAtomicTemporary(name: string): boolean {
  return TEMPORARY.test(name);
}

/** Makes a rename durable; some platforms (Windows) cannot open folders, which is harmless there. */
export async function syncFolder(folder: string): Promise<void> {
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
