// The one rule for symbolic links inside a folder the user chose (a dataset, a classified folder): a path
// counts as inside only when its real path, every link resolved, stays inside the folder's real path. The
// dataset scan, thumbnails and "open the file" all decide with these functions, so a link out of a
// dataset is skipped by the scan and refused by the others alike. Must not import electron or anything
// from main/electron, main/backend, main/server, main/cli or renderer.
import { realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';

/** True when `path` is `root` or inside it (both absolute and already resolved); compares whole parts. */
export function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/** The real path of `path`, or its plain resolved form when it cannot be resolved (missing, broken link). */
export async function realPathOrResolved(path: string): Promise<string> {
  return realpath(path).catch(() => resolve(path));
}

/**
 * Where `path` really leads, and whether that stays inside `root` (links resolved on both sides). A path
 * that does not exist is judged by its plain form: it leads nowhere, so no link of it can leave the folder.
 */
export async function resolveInside(root: string, path: string): Promise<{ real: string; inside: boolean }> {
  const real = await realPathOrResolved(path);
  return { real, inside: isInside(await realPathOrResolved(root), real) };
}
