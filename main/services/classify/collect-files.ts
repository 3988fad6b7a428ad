// Turns the command line's "folders or files" into the ordered stream of files to classify: folders are
// walked recursively in a stable order (datasets/walk-folder.ts, one level at a time, each folder's
// entries sorted: links followed without loops, hidden files and OS junk left out), files are taken as
// they are, the output folders are never walked into, and every file gets a stable output key (its path
// under its input, prefixed by the input's name when there are several inputs) that names its heat-map
// files. Must not import electron or anything from main/electron, main/backend, main/server, main/cli or renderer.

import { stat } from 'node:fs/promises';
import { basename, join, relative, resolve, sep } from 'node:path';
import type { ProblemReason } from '../datasets/dataset-types.js';
import {
  createWalkState,
  folderId,
  walkFolder,
  type FolderId,
  type WalkEntry,
  type WalkState,
} from '../datasets/walk-folder.js';

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

/** One thing found among the inputs, in input order: a file to classify or a problem with the reason. */
export type InputEntry = { kind: 'file'; file: InputFile } | { kind: 'problem'; problem: InputProblem };

/**
 * The files of `inputs` one at a time, in a stable order that does not depend on the file system's
 * listing order: inputs as given, each folder walked depth-first with its entries sorted by name (a
 * folder's name compared with a '/' after it, so the order is that of the '/'-separated relative paths).
 * Only one folder listing per level of depth is held, never the whole tree. Anything inside `exclude`
 * (the output folders) is left out. Throws InputError when an input is missing.
 */
export async function* streamInputFiles(
  inputs: readonly string[],
  exclude: readonly string[] = [],
): AsyncGenerator<InputEntry> {
  if (inputs.length === 0) throw new InputError('Give at least one folder or image file to classify.');
  const excluded = exclude.map((e) => resolve(e));
  const fileKeys = new Set<string>();
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
      // Files given one by one are few (a command line): their keys are kept unique by a suffix.
      let key = basename(root);
      for (let n = 2; fileKeys.has(key); n++) key = `${basename(root)}~${n}`;
      fileKeys.add(key);
      yield { kind: 'file', file: { file: input, path: root, key } };
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
    for await (const entry of sortedWalk(root, '', state, [])) {
      if (excluded.some((folder) => inside(entry.path, folder))) continue;
      const file = join(input, ...entry.relativePath.split('/'));
      if (entry.kind === 'file')
        yield { kind: 'file', file: { file, path: entry.path, key: prefix + entry.relativePath } };
      else if (entry.kind === 'problem')
        yield {
          kind: 'problem',
          problem: {
            file,
            path: entry.path,
            reason: entry.reason,
            message: entry.message,
            ignorable: IGNORABLE.has(entry.reason),
          },
        };
    }
  }
}

/** Sort key of a walk entry: its name, with a '/' after a folder's. */
function entryName(entry: WalkEntry): string {
  const name = entry.relativePath.slice(entry.relativePath.lastIndexOf('/') + 1);
  return entry.kind === 'folder' ? `${name}/` : name;
}

/** walk-folder.ts one level at a time (its checks for loops and folders reached twice), sorted. */
async function* sortedWalk(
  dir: string,
  relativeTo: string,
  state: WalkState,
  ancestors: readonly FolderId[],
): AsyncGenerator<WalkEntry> {
  const listing: WalkEntry[] = [];
  for await (const entry of walkFolder(dir, relativeTo, state, ancestors, { descend: false }))
    listing.push(entry);
  const keyed = listing.map((entry) => ({ entry, name: entryName(entry) }));
  keyed.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  let below: readonly FolderId[] | null = null;
  for (const { entry } of keyed) {
    if (entry.kind !== 'folder') {
      yield entry;
      continue;
    }
    below ??= [...ancestors, await folderId(dir)];
    yield* sortedWalk(entry.path, entry.relativePath, state, below);
  }
}

/** All of streamInputFiles at once, for inputs known to be small (tests, a handful of files). */
export async function collectInputFiles(
  inputs: readonly string[],
  exclude: readonly string[] = [],
): Promise<CollectedInputs> {
  const files: InputFile[] = [];
  const problems: InputProblem[] = [];
  for await (const entry of streamInputFiles(inputs, exclude))
    if (entry.kind === 'file') files.push(entry.file);
    else problems.push(entry.problem);
  return { files, problems };
}

/** `path` relative to `folder` with '/' separators (for paths written into results). */
export function relativeSlashes(folder: string, path: string): string {
  return relative(folder, path).split(sep).join('/');
}
