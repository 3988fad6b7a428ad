// The first step of a dataset scan (scan-dataset.ts): the folders directly under the root are either the
// class folders, or train/ + val/ (+ test/) split folders that hold the class folders. Annotations/ and
// labels/ hold object boxes (boxes/find-boxes.ts), not a class, unless pictures lie directly in them.
// Images beside the class folders have no label and are reported. Must not import electron or anything
// from main/electron, main/backend, main/server, main/cli or renderer.
import { readdir } from 'node:fs/promises';
import { BOX_FOLDERS } from '../boxes/find-boxes.js';
import type { DatasetProblem, Split } from './dataset-types.js';
import { compare } from './split-items.js';
import { folderId, walkFolder, type FolderId, type WalkState } from './walk-folder.js';

const IMAGE_EXTENSION = /\.(jpe?g|jfif|png|webp|gif|bmp|dib|tiff?)$/i;
const SPLIT_FOLDER_NAMES: Record<Split, RegExp> = {
  train: /^(train|training)$/i,
  val: /^(val|valid|validation|dev)$/i,
  test: /^(test|testing)$/i,
};

export interface ClassFolder {
  label: string;
  path: string;
  relativePath: string;
  split: Split | undefined; // set in the folders layout
  ancestors: FolderId[];
}

interface Folder {
  name: string;
  path: string;
  relativePath: string;
}

type SplitFolders = Partial<Record<Split, Folder>>;

export interface DatasetLayout {
  layout: 'folders' | 'seeded';
  /** The split folders found (folders layout only). */
  splitFolders: SplitFolders | undefined;
  classFolders: ClassFolder[];
  /** Root-level folders left out because the dataset has split folders. */
  ignoredFolders: string[];
}

/** The class folders of the dataset at `root`; what cannot be used goes into `problems`. */
export async function findClassFolders(
  root: string,
  state: WalkState,
  problems: DatasetProblem[],
): Promise<DatasetLayout> {
  const rootId = await folderId(root);
  const top = await topFolders(root, state, problems);
  const splitFolders = findSplitFolders(top);
  if (!splitFolders) {
    const classFolders = top.map((c) => classFolder(c, undefined, [rootId]));
    return { layout: 'seeded', splitFolders, classFolders, ignoredFolders: [] };
  }
  const classFolders: ClassFolder[] = [];
  const ignoredFolders: string[] = [];
  for (const folder of top) {
    const split = (Object.keys(SPLIT_FOLDER_NAMES) as Split[]).find((s) => splitFolders[s] === folder);
    if (split === undefined) {
      ignoredFolders.push(folder.relativePath);
      continue;
    }
    const inner = await listFolder(folder.path, folder.relativePath, state, [rootId], problems);
    const splitId = await folderId(folder.path);
    for (const c of inner) classFolders.push(classFolder(c, split, [rootId, splitId]));
  }
  return { layout: 'folders', splitFolders, classFolders, ignoredFolders };
}

function classFolder(folder: Folder, split: Split | undefined, ancestors: FolderId[]): ClassFolder {
  return { label: folder.name, path: folder.path, relativePath: folder.relativePath, split, ancestors };
}

/**
 * The folders at the root, without Annotations/ and labels/: they hold object boxes, unless pictures lie
 * directly in them, which makes them a class of that name.
 */
async function topFolders(root: string, state: WalkState, problems: DatasetProblem[]): Promise<Folder[]> {
  const listed = await listFolder(root, '', state, [], problems);
  const boxFolders = new Set<string>();
  for (const f of listed)
    if (BOX_FOLDERS.includes(f.name) && !(await holdsImages(f.path))) boxFolders.add(f.name);
  return listed.filter((f) => !boxFolders.has(f.name));
}

/** Lists the folders directly in `dir`; files there are not in a class folder (images are reported). */
async function listFolder(
  dir: string,
  relativeTo: string,
  state: WalkState,
  ancestors: FolderId[],
  problems: DatasetProblem[],
): Promise<Folder[]> {
  const folders: Folder[] = [];
  for await (const entry of walkFolder(dir, relativeTo, state, ancestors, { descend: false })) {
    if (entry.kind === 'folder') {
      folders.push({
        name: entry.relativePath.split('/').pop() as string,
        path: entry.path,
        relativePath: entry.relativePath,
      });
    } else if (entry.kind === 'problem') {
      problems.push({ path: entry.relativePath, reason: entry.reason, message: entry.message });
    } else if (IMAGE_EXTENSION.test(entry.relativePath)) {
      problems.push({
        path: entry.relativePath,
        reason: 'outside-class-folder',
        message:
          'This image is not inside a class folder, so it has no label: skipped. Move it into the folder of its class.',
      });
    }
    // Other files beside the class folders (README, boxes.json, ...) are not part of the dataset.
  }
  folders.sort((a, b) => compare(a.name, b.name));
  return folders;
}

/** Whether image files lie directly in `dir` (not in its sub-folders). */
async function holdsImages(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).some((name) => IMAGE_EXTENSION.test(name));
  } catch {
    return false;
  }
}

/**
 * The split folders, when the root has train/ plus val/ or test/, or train/ alone (names are
 * case-insensitive). A lone train/ beside class folders is taken for a class named "train".
 */
function findSplitFolders(folders: Folder[]): SplitFolders | undefined {
  const found: SplitFolders = {};
  for (const split of Object.keys(SPLIT_FOLDER_NAMES) as Split[]) {
    found[split] = folders.find((f) => SPLIT_FOLDER_NAMES[split].test(f.name));
  }
  return found.train && (found.val || found.test || folders.length === 1) ? found : undefined;
}
