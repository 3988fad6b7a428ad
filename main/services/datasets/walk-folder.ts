// Walks a folder tree one directory entry at a time (fs.opendir, never a full listing in memory), following
// symbolic links but never looping: every folder is identified by device + inode, a link back to a folder
// on the current path is a loop, a link to a folder already walked is skipped. A walk confined to a folder
// (a dataset) follows a link only when its target stays inside that folder (storage/inside-folder.ts, the
// rule thumbnails and "open" use too) and reports the others. Hidden files and OS junk are reported, not
// walked. Must not import electron or anything from main/electron, main/backend, main/server, main/cli or
// renderer.
import type { Dirent } from 'node:fs';
import { lstat, opendir, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isInside } from '../storage/inside-folder.js';
import type { ProblemReason } from './dataset-types.js';

export type WalkEntry =
  | { kind: 'file'; path: string; relativePath: string }
  | { kind: 'folder'; path: string; relativePath: string } // only when not descending
  | { kind: 'problem'; path: string; relativePath: string; reason: ProblemReason; message: string };

/** Names that operating systems and tools leave behind (compared in lower case). */
const SYSTEM_NAMES = new Set([
  '.ds_store',
  'thumbs.db',
  'ehthumbs.db',
  'ehthumbs_vista.db',
  'desktop.ini',
  '.directory',
  '.localized',
  '__macosx',
  '$recycle.bin',
  'system volume information',
  '.spotlight-v100',
  '.trashes',
  '.fseventsd',
  '.picasa.ini',
  '.picasaoriginals',
  'icon\r',
]);

/** 'system-file', 'hidden' or undefined for a file or folder name. */
export function classifyName(name: string): 'system-file' | 'hidden' | undefined {
  const lower = name.toLowerCase();
  if (SYSTEM_NAMES.has(lower) || name.startsWith('._')) return 'system-file';
  if (name.startsWith('.')) return 'hidden';
  return undefined;
}

const SKIP_MESSAGES: Record<'system-file' | 'hidden', string> = {
  'system-file': 'A file the operating system made (not a picture of yours): skipped.',
  hidden: 'A hidden file or folder (its name starts with a dot): skipped. Rename it if it should be used.',
};

/** Identity of a folder: device + inode. */
export type FolderId = string;

export interface WalkState {
  /** Every folder walked so far (shared between walks of one dataset, so two links to one folder count once). */
  visited: Set<FolderId>;
  /** Folders walked on their own (the class folders): a link inside another folder must not pull them in. */
  reserved: Set<FolderId>;
  /** The real path (links resolved) that every followed link must stay inside; undefined: no limit. */
  confineTo?: string;
}

/** `confineTo`: the real path of the folder links may not lead out of (see WalkState). */
export function createWalkState(confineTo?: string): WalkState {
  return { visited: new Set(), reserved: new Set(), ...(confineTo === undefined ? {} : { confineTo }) };
}

export async function folderId(path: string): Promise<FolderId> {
  const s = await stat(path, { bigint: true });
  return `${s.dev}:${s.ino}`;
}

export interface WalkOptions {
  /** False: yield sub-folders as 'folder' entries instead of walking them (default true). */
  descend?: boolean;
}

/**
 * Yields the files under `dir` (recursively) and a problem entry for everything skipped. `relativeTo` is the
 * relative path of `dir` itself ('' for the dataset root); `ancestors` are the folder ids on the path from the
 * dataset root down to `dir`'s parent.
 */
export async function* walkFolder(
  dir: string,
  relativeTo: string,
  state: WalkState,
  ancestors: readonly FolderId[] = [],
  options: WalkOptions = {},
): AsyncGenerator<WalkEntry> {
  let id: FolderId;
  let handle;
  try {
    id = await folderId(dir);
    if (state.visited.has(id)) {
      yield seenTwice(dir, relativeTo);
      return;
    }
    handle = await opendir(dir, { bufferSize: 64 });
  } catch (error) {
    yield folderProblem(dir, relativeTo, error);
    return;
  }
  state.visited.add(id);
  const path = [...ancestors, id];
  try {
    for await (const entry of handle) {
      yield* walkEntry(dir, relativeTo, entry, state, path, options.descend ?? true);
    }
  } catch (error) {
    // A folder that becomes unreadable half-way (removed, network drop): report it and go on.
    yield folderProblem(dir, relativeTo, error);
  }
}

async function* walkEntry(
  dir: string,
  relativeTo: string,
  entry: Dirent,
  state: WalkState,
  ancestors: readonly FolderId[],
  descend: boolean,
): AsyncGenerator<WalkEntry> {
  const path = join(dir, entry.name);
  const relativePath = relativeTo === '' ? entry.name : `${relativeTo}/${entry.name}`;
  const skip = classifyName(entry.name);
  if (skip !== undefined) {
    yield { kind: 'problem', path, relativePath, reason: skip, message: SKIP_MESSAGES[skip] };
    return;
  }
  if (entry.name.includes('\uFFFD') && !(await exists(path))) {
    // Node decodes names as UTF-8 and puts U+FFFD for bytes that are not; the file then cannot be opened
    // under the decoded name. Say so, rather than calling the file missing.
    yield problem(
      path,
      relativePath,
      'unreadable',
      'This file name is not valid UTF-8 text (an old or foreign encoding), so it cannot be opened: skipped. Rename the file.',
    );
    return;
  }
  let isDirectory = entry.isDirectory();
  let isFile = entry.isFile();
  if (entry.isSymbolicLink()) {
    try {
      const target = await stat(path);
      isDirectory = target.isDirectory();
      isFile = target.isFile();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ELOOP') {
        yield problem(
          path,
          relativePath,
          'symlink-loop',
          'This link leads back to itself (a loop of links): skipped.',
        );
      } else if (code === 'ENOENT' || code === 'ENOTDIR') {
        yield problem(
          path,
          relativePath,
          'broken-link',
          'This link points to something that does not exist: skipped.',
        );
      } else {
        yield problem(
          path,
          relativePath,
          'unreadable',
          `This link cannot be followed (${code ?? 'error'}): skipped.`,
        );
      }
      return;
    }
    const outside = await linkLeavesFolder(path, state);
    if (outside !== null) {
      yield problem(path, relativePath, outside.reason, outside.message);
      return;
    }
  }
  if (isFile) {
    yield { kind: 'file', path, relativePath };
  } else if (isDirectory) {
    let id: FolderId;
    try {
      id = await folderId(path);
    } catch (error) {
      yield folderProblem(path, relativePath, error);
      return;
    }
    if (ancestors.includes(id)) {
      yield problem(
        path,
        relativePath,
        'symlink-loop',
        'This folder link points back to a folder that contains it (a loop): skipped.',
      );
    } else if (state.visited.has(id) || state.reserved.has(id)) {
      yield seenTwice(path, relativePath);
    } else if (descend) {
      yield* walkFolder(path, relativePath, state, ancestors);
    } else {
      yield { kind: 'folder', path, relativePath };
    }
  } else {
    yield problem(
      path,
      relativePath,
      'not-a-file',
      'This is not a regular file (a pipe, socket or device): skipped.',
    );
  }
}

/** Why the link at `path` is not followed in a confined walk, or null when its target stays inside. */
async function linkLeavesFolder(
  path: string,
  state: WalkState,
): Promise<{ reason: ProblemReason; message: string } | null> {
  if (state.confineTo === undefined) return null;
  let target: string;
  try {
    target = await realpath(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { reason: 'unreadable', message: `This link cannot be followed (${code ?? 'error'}): skipped.` };
  }
  if (isInside(state.confineTo, target)) return null;
  return {
    reason: 'link-outside-folder',
    message: `This link leads out of the dataset folder (to ${target}): skipped. Only links to files and folders inside the dataset are followed; copy or move what it points to into the dataset if it belongs there.`,
  };
}

/** True when something (even a broken link) is at `path`. */
async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

function problem(path: string, relativePath: string, reason: ProblemReason, message: string): WalkEntry {
  return { kind: 'problem', path, relativePath, reason, message };
}

function seenTwice(path: string, relativePath: string): WalkEntry {
  return problem(
    path,
    relativePath,
    'folder-seen-twice',
    'This leads to a folder that is already part of the dataset (through a link): skipped so its images count once.',
  );
}

function folderProblem(path: string, relativePath: string, error: unknown): WalkEntry {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const message =
    code === 'EACCES' || code === 'EPERM'
      ? 'This folder cannot be opened: permission denied. Give your user access to it, or remove it.'
      : code === 'ENOENT'
        ? 'This folder disappeared while it was being scanned.'
        : `This folder cannot be read (${code ?? String(error)}).`;
  return problem(path, relativePath || '.', 'unreadable-folder', message);
}
