// Which files the UI may have read through the API: only images inside folders the user chose (the
// workspace's datasets and the datasets of its runs). Links are resolved first, by the same rule as the
// dataset scan (services/storage/inside-folder.ts), so a link inside a dataset cannot reach elsewhere.
// Must not import electron or renderer.
import { isAbsolute, resolve } from 'node:path';
import { ApiError } from '../api/index.js';
import { isInside, realPathOrResolved, resolveInside } from '../services/storage/inside-folder.js';

export { isInside };

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
  const target = await realPathOrResolved(base ? resolve(base, path) : resolve(path));
  for (const root of roots) {
    if ((await resolveInside(root, target)).inside) return target;
  }
  throw new ApiError(
    'refused',
    `The app only opens images inside the datasets of this workspace; ${path} is not in one of them.`,
  );
}
