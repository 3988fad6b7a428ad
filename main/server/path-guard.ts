// Which files the UI may have read through the API: only images inside folders the user chose (the
// workspace's datasets and the datasets of its runs). Resolves links first, so a link inside a dataset
// cannot reach elsewhere. Must not import electron or renderer.
import { realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { ApiError } from '../api/index.js';

/** True when `path` is `root` or inside it (both absolute, already resolved). */
export function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

async function real(path: string): Promise<string> {
  return realpath(path).catch(() => resolve(path));
}

/**
 * Resolves `path` (absolute, or relative to `base`) and checks it lies inside one of `roots`; throws a
 * 'refused' ApiError otherwise. Returns the resolved path.
 */
export async function checkAllowedFile(
  path: string,
  roots: readonly string[],
  base?: string,
): Promise<string> {
  if (path.includes('\0')) throw new ApiError('refused', 'That path is not valid.');
  if (!base && !isAbsolute(path)) throw new ApiError('refused', `Expected a full path, got "${path}".`);
  const target = await real(base ? resolve(base, path) : resolve(path));
  for (const root of roots) {
    if (isInside(await real(root), target)) return target;
  }
  throw new ApiError(
    'refused',
    `The app only opens images inside the datasets of this workspace; ${path} is not in one of them.`,
  );
}
