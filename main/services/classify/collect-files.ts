// Turns the command line's "folders or files" into the ordered list of files to classify: folders are
// walked recursively (datasets/walk-folder.ts: links followed without loops, hidden files and OS junk left
// out), files are taken as they are, the output folders are never walked into, and every file gets a
// stable output key (its path under its input, prefixed by the input's name when there are several
// inputs) that names its heat-map files. Must not import electron or anything from main/electron,
// main/server, main/cli or renderer.

import { stat } from 'node:fs/promises';
import { basename, join, relative, resolve, sep } from 'node:path';
import type { ProblemReason } from '../datasets/dataset-types.js';
import { createWalkState, walkFolder } from '../datasets/walk-folder.js';

export interface InputFile {
  /** The path as found: the input as given, joined with the path below it ('/' separators below it). */
  file: string;
  /** Absolute path. */
  path: string;
  /** Relative output name, '/' separators, unique in the list (e.g. `dogs/rex.jpg`). */
  key: string;
}

/** Something found that is not a file to classify, with the reason it was left out. */
export interface InputProblem {
  file: string;
  path: string;
  reason: ProblemReason;
  message: string;
  /** True for what is meant to be skipped silently (hidden files, OS junk, a folder reached twice). */
  ignorable: boolean;
}

export interface CollectedInputs {
  files: InputFile[];
  problems: InputProblem[];
}

export class InputError extends Error {
  override name = 'InputError';
}

const IGNORABLE: ReadonlySet<ProblemReason> = new Set(['hidden', 'system-file', 'folder-seen-twice']);

function inside(path: string, folder: string): boolean {
  return path === folder || path.startsWith(folder.endsWith(sep) ? folder : folder + sep);
}

/**
 * Lists the files of `inputs` (folders walked recursively, files as given; folders in file-name order),
 * leaving out anything inside `exclude` (the output folders). Throws InputError when an input is missing.
 */
export async function collectInputFiles(
  inputs: readonly string[],
  exclude: readonly string[] = [],
): Promise<CollectedInputs> {
  if (inputs.length === 0) throw new InputError('Give at least one folder or image file to classify.');
  const excluded = exclude.map((e) => resolve(e));
  const files: InputFile[] = [];
  const problems: InputProblem[] = [];
  const keys = new Set<string>();
  const uniqueKey = (key: string): string => {
    let k = key;
    for (let n = 2; keys.has(k); n++) k = `${key}~${n}`;
    keys.add(k);
    return k;
  };
  const prefixes = new Set<string>();
  const state = createWalkState();
  for (const input of inputs) {
    const root = resolve(input);
    let info;
    try {
      info = await stat(root);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new InputError(
        code === 'ENOENT' ? `${input} does not exist.` : `${input} cannot be opened (${code ?? String(e)}).`,
      );
    }
    if (info.isFile()) {
      files.push({ file: input, path: root, key: uniqueKey(basename(root)) });
      continue;
    }
    if (!info.isDirectory()) throw new InputError(`${input} is neither a folder nor a file.`);
    let prefix = '';
    if (inputs.length > 1) {
      prefix = basename(root) || 'input';
      for (let n = 2; prefixes.has(prefix); n++) prefix = `${basename(root) || 'input'}~${n}`;
      prefixes.add(prefix);
      prefix += '/';
    }
    const found: InputFile[] = [];
    for await (const entry of walkFolder(root, '', state)) {
      if (excluded.some((folder) => inside(entry.path, folder))) continue;
      const file = join(input, ...entry.relativePath.split('/'));
      if (entry.kind === 'file') found.push({ file, path: entry.path, key: prefix + entry.relativePath });
      else if (entry.kind === 'problem')
        problems.push({
          file,
          path: entry.path,
          reason: entry.reason,
          message: entry.message,
          ignorable: IGNORABLE.has(entry.reason),
        });
    }
    found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    for (const f of found) files.push({ ...f, key: uniqueKey(f.key) });
  }
  return { files, problems };
}

/** `path` relative to `folder` with '/' separators (for paths written into results). */
export function relativeSlashes(folder: string, path: string): string {
  return relative(folder, path).split(sep).join('/');
}
