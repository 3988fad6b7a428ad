// `--sort-into DIR`: puts each classified file into DIR/<label>/ as a copy, or with `--link` as a symbolic
// link to the original (a hard link where symbolic links are not allowed, as on Windows without developer
// mode). Never overwrites: a name already taken gets " (2)", " (3)", ... before its extension. Label
// names become folder names only after unsafe characters are replaced. Must not import electron or
// anything from main/electron, main/backend, main/server, main/cli or renderer.

import { constants } from 'node:fs';
import { copyFile, link, mkdir, symlink } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';

/** A label as a folder name: no path separators, no '.'/'..', no characters Windows refuses. */
export function labelFolderName(label: string): string {
  const cleaned = label.replace(/[<>:"/\\|?*\u0000-\u001f]/g, '_').replace(/[. ]+$/, '');
  return cleaned === '' || cleaned === '.' || cleaned === '..' ? '_' : cleaned;
}

function candidate(name: string, n: number): string {
  if (n === 1) return name;
  const ext = extname(name);
  return `${basename(name, ext)} (${n})${ext}`;
}

/** Copies or links `source` into `<root>/<label>/`; returns the path created. Throws the file system's error. */
export async function sortFile(
  source: string,
  root: string,
  label: string,
  mode: 'copy' | 'link',
): Promise<string> {
  const folder = join(root, labelFolderName(label));
  await mkdir(folder, { recursive: true });
  const name = basename(source);
  for (let n = 1; n < 10_000; n++) {
    const target = join(folder, candidate(name, n));
    try {
      if (mode === 'copy') await copyFile(source, target, constants.COPYFILE_EXCL);
      else {
        try {
          await symlink(source, target);
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EACCES') throw e;
          await link(source, target);
        }
      }
      return target;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  throw new Error(`more than 10,000 files named ${name} in ${folder}`);
}
