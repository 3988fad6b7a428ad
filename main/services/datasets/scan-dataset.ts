// Scans a dataset folder: one sub-folder per class (the folder name is the label), optionally inside
// train/ + val/ (+ test/) folders, which are then respected (without val/, validation is carved out of
// train/); otherwise the images are split here, stratified by class, from a seed. The walk streams (fs.opendir) and checks files with bounded concurrency,
// keeping only path, size, hash and dimensions per file, so 50,000 files fit easily. Bad input never stops
// the scan: every skipped file or folder is listed with a reason. Must not import electron or anything from
// main/electron, main/server, main/cli or renderer.
import { createHash } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { BOX_FOLDERS, BOX_SIDECAR, findDatasetBoxes } from '../boxes/find-boxes.js';
import { realPathOrResolved } from '../storage/inside-folder.js';
import { checkImageFile } from './check-image-file.js';
import { DEFAULT_IMBALANCE_RATIO, datasetMessages } from './dataset-messages.js';
import type {
  DatasetClass,
  DatasetItem,
  DatasetMessage,
  DatasetProblem,
  DatasetScan,
  ScanProgress,
  Split,
} from './dataset-types.js';
import { findDuplicates } from './find-duplicates.js';
import { DEFAULT_VAL_FRACTION, compare, splitItems } from './split-items.js';
import {
  createWalkState,
  folderId,
  walkFolder,
  type FolderId,
  type WalkEntry,
  type WalkState,
} from './walk-folder.js';

export interface ScanOptions {
  /** Fraction of each class kept for validation when the folder has no val/ folder (default 0.2). */
  valFraction?: number;
  /** Fraction of each class kept for test when the folder has no split folders (default 0). */
  testFraction?: number;
  /** Seed of the split (default 0). */
  seed?: number;
  /** Files checked at once (default 4: hashing is I/O, the header probe is cheap). */
  concurrency?: number;
  /** Decode every image fully to find damage inside files (slower). Default false: header + end checks. */
  fullDecode?: boolean;
  /** Largest accepted width x height (default sharp's 268,402,689). */
  maxPixels?: number;
  /** Largest/smallest class size above which a warning is given (default 10). */
  imbalanceRatio?: number;
  /** Called as the scan goes, at most every progressIntervalMs, and once at the end. */
  onProgress?: (progress: ScanProgress) => void;
  progressIntervalMs?: number;
  /** Stops the scan; scanDataset then rejects with the signal's reason. */
  signal?: AbortSignal;
}

const IMAGE_EXTENSION = /\.(jpe?g|jfif|png|webp|gif|bmp|dib|tiff?)$/i;
const SPLIT_FOLDER_NAMES: Record<Split, RegExp> = {
  train: /^(train|training)$/i,
  val: /^(val|valid|validation|dev)$/i,
  test: /^(test|testing)$/i,
};

interface ClassFolder {
  label: string;
  path: string;
  relativePath: string;
  split: Split | undefined; // set in the folders layout
  ancestors: FolderId[];
}

interface FoundItem extends Omit<DatasetItem, 'classIndex' | 'split'> {
  folderSplit: Split | undefined;
}

/** Scans `root` (see the module comment). Rejects only when cancelled; everything else is in the result. */
export async function scanDataset(root: string, options: ScanOptions = {}): Promise<DatasetScan> {
  const started = performance.now();
  const absoluteRoot = resolve(root);
  const splitSettings = {
    valFraction: options.valFraction ?? DEFAULT_VAL_FRACTION,
    testFraction: options.testFraction ?? 0,
    seed: options.seed ?? 0,
  };
  const rootError = await checkRoot(absoluteRoot);
  if (rootError) return emptyScan(absoluteRoot, splitSettings, rootError, started);

  // Links are followed only when their target stays inside the dataset folder (inside-folder.ts).
  const state = createWalkState(await realPathOrResolved(absoluteRoot));
  const problems: DatasetProblem[] = [];
  const progress = createProgressReporter(options);
  const rootId = await folderId(absoluteRoot);

  // 1. Top level: class folders, or split folders holding class folders.
  const listed = await listFolder(absoluteRoot, '', state, [], problems);
  // Annotations/ and labels/ hold object boxes (boxes/find-boxes.ts), not a class: unless pictures lie
  // directly in them, which makes them a class of that name.
  const boxFolders = new Set<string>();
  for (const f of listed.folders)
    if (BOX_FOLDERS.includes(f.name) && !(await holdsImages(f.path))) boxFolders.add(f.name);
  const top = { folders: listed.folders.filter((f) => !boxFolders.has(f.name)) };
  const splitFolders = findSplitFolders(top.folders);
  const layout = splitFolders ? 'folders' : 'seeded';
  const classFolders: ClassFolder[] = [];
  const ignoredFolders: string[] = [];
  if (splitFolders) {
    for (const folder of top.folders) {
      const split = (Object.keys(SPLIT_FOLDER_NAMES) as Split[]).find((s) => splitFolders[s] === folder);
      if (split === undefined) {
        ignoredFolders.push(folder.relativePath);
        continue;
      }
      const inner = await listFolder(folder.path, folder.relativePath, state, [rootId], problems);
      const splitId = await folderId(folder.path);
      for (const c of inner.folders) {
        classFolders.push({
          label: c.name,
          path: c.path,
          relativePath: c.relativePath,
          split,
          ancestors: [rootId, splitId],
        });
      }
    }
  } else {
    for (const c of top.folders) {
      classFolders.push({
        label: c.name,
        path: c.path,
        relativePath: c.relativePath,
        split: undefined,
        ancestors: [rootId],
      });
    }
  }

  // 2. Walk each class folder and check its files, a bounded number at a time. Class folders are reserved
  // first, so a link in one class to another class's folder cannot move those images into the wrong class.
  for (const folder of classFolders) {
    try {
      state.reserved.add(await folderId(folder.path));
    } catch {
      // Unreadable: walkFolder reports it below.
    }
  }
  const found: FoundItem[] = [];
  const filesPerFolder = new Map<ClassFolder, { files: number; usable: number }>();
  const concurrency = Math.max(1, options.concurrency ?? 4);
  const inFlight = new Set<Promise<void>>();
  for (const folder of classFolders) {
    const tally = { files: 0, usable: 0 };
    filesPerFolder.set(folder, tally);
    for await (const entry of walkFolder(folder.path, folder.relativePath, state, folder.ancestors)) {
      throwIfAborted(options.signal);
      if (entry.kind === 'problem') {
        problems.push({ path: entry.relativePath, reason: entry.reason, message: entry.message });
        if (!isFolderProblem(entry)) {
          tally.files++;
          progress.seen();
        }
        progress.problem();
        continue;
      }
      if (entry.kind !== 'file') continue;
      if (BOX_SIDECAR.test(entry.relativePath)) continue; // a VOC or YOLO box file beside its picture
      tally.files++;
      progress.seen();
      const task = checkOne(entry, folder, options).then((result) => {
        if ('problem' in result) {
          problems.push(result.problem);
          progress.problem();
        } else {
          found.push(result.item);
          tally.usable++;
        }
        progress.probed();
      });
      const tracked: Promise<void> = task.finally(() => inFlight.delete(tracked));
      inFlight.add(tracked);
      if (inFlight.size >= concurrency) await Promise.race(inFlight);
    }
  }
  progress.walkDone();
  await Promise.all(inFlight);
  throwIfAborted(options.signal);

  // 3. Classes, splits, duplicates, messages.
  found.sort((a, b) => compare(a.relativePath, b.relativePath));
  const classNames = [...new Set(found.map((f) => f.label))].sort(compare);
  const classIndex = new Map(classNames.map((name, i) => [name, i]));
  const splits = assignSplits(found, layout, splitFolders?.val !== undefined, splitSettings);
  const items: DatasetItem[] = found.map(({ folderSplit: _folderSplit, ...item }, i) => ({
    ...item,
    classIndex: classIndex.get(item.label) as number,
    split: splits[i],
  }));
  const classes: DatasetClass[] = classNames.map((name) => {
    const mine = items.filter((item) => item.label === name);
    const folders = classFolders.filter((f) => f.label === name);
    return {
      name,
      count: mine.length,
      files: folders.reduce((n, f) => n + (filesPerFolder.get(f)?.files ?? 0), 0),
      splits: {
        train: mine.filter((m) => m.split === 'train').length,
        val: mine.filter((m) => m.split === 'val').length,
        test: mine.filter((m) => m.split === 'test').length,
      },
    };
  });
  const emptyFolders = classFolders
    .filter((f) => filesPerFolder.get(f)?.usable === 0)
    .map((f) => ({ name: f.label, relativePath: f.relativePath, files: filesPerFolder.get(f)?.files ?? 0 }));
  problems.sort((a, b) => compare(a.path, b.path));
  const duplicates = findDuplicates(items);
  const { errors, warnings } = datasetMessages({
    classes,
    emptyFolders,
    problems,
    duplicates,
    layout,
    splitFolders: { val: splitFolders?.val !== undefined, test: splitFolders?.test !== undefined },
    ignoredFolders,
    imbalanceRatio: options.imbalanceRatio ?? DEFAULT_IMBALANCE_RATIO,
  });
  const boxes = await findDatasetBoxes(absoluteRoot, items);
  progress.done();
  return {
    root: absoluteRoot,
    layout,
    classes,
    items,
    problems,
    duplicates,
    warnings,
    errors,
    fingerprint: datasetFingerprint(items),
    split: splitSettings,
    boxes: {
      pictures: boxes.boxes.size,
      sources: boxes.sources,
      problems: boxes.problems,
    },
    stats: {
      filesSeen: progress.state.seen,
      imagesUsable: items.length,
      problems: problems.length,
      bytes: items.reduce((n, item) => n + item.bytes, 0),
      seconds: (performance.now() - started) / 1000,
    },
  };
}

/** SHA-256 of the sorted "relative path TAB sha256 NEWLINE" lines: the same files give the same print. */
export function datasetFingerprint(items: readonly Pick<DatasetItem, 'relativePath' | 'sha256'>[]): string {
  const hash = createHash('sha256');
  for (const item of [...items].sort((a, b) => compare(a.relativePath, b.relativePath))) {
    hash.update(`${item.relativePath}\t${item.sha256}\n`);
  }
  return hash.digest('hex');
}

async function checkOne(
  entry: Extract<WalkEntry, { kind: 'file' }>,
  folder: ClassFolder,
  options: ScanOptions,
): Promise<{ item: FoundItem } | { problem: DatasetProblem }> {
  const check = await checkImageFile(entry.path, {
    maxPixels: options.maxPixels,
    fullDecode: options.fullDecode,
  });
  if (!check.ok)
    return { problem: { path: entry.relativePath, reason: check.reason, message: check.message } };
  return {
    item: {
      path: entry.path,
      relativePath: entry.relativePath,
      label: folder.label,
      format: check.format,
      width: check.width,
      height: check.height,
      bytes: check.bytes,
      sha256: check.sha256,
      folderSplit: folder.split,
    },
  };
}

function assignSplits(
  found: readonly FoundItem[],
  layout: 'folders' | 'seeded',
  hasValFolder: boolean,
  settings: { valFraction: number; testFraction: number; seed: number },
): Split[] {
  if (layout === 'seeded') return splitItems(found, settings);
  const splits = found.map((f) => f.folderSplit as Split);
  if (!hasValFolder) {
    // train/ + test/ only: carve validation out of train/, stratified and seeded.
    const trainIndices = splits.flatMap((s, i) => (s === 'train' ? [i] : []));
    const carved = splitItems(
      trainIndices.map((i) => found[i]),
      { valFraction: settings.valFraction, testFraction: 0, seed: settings.seed },
    );
    trainIndices.forEach((i, k) => (splits[i] = carved[k]));
  }
  return splits;
}

interface FolderListing {
  folders: { name: string; path: string; relativePath: string }[];
}

/** Lists the folders directly in `dir`; files there are not in a class folder (images are reported). */
async function listFolder(
  dir: string,
  relativeTo: string,
  state: WalkState,
  ancestors: FolderId[],
  problems: DatasetProblem[],
): Promise<FolderListing> {
  const folders: FolderListing['folders'] = [];
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
  return { folders };
}

/** Whether image files lie directly in `dir` (not in its sub-folders). */
async function holdsImages(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).some((name) => IMAGE_EXTENSION.test(name));
  } catch {
    return false;
  }
}

type SplitFolders = Partial<Record<Split, FolderListing['folders'][number]>>;

/**
 * The split folders, when the root has train/ plus val/ or test/, or train/ alone (names are
 * case-insensitive). A lone train/ beside class folders is taken for a class named "train".
 */
function findSplitFolders(folders: FolderListing['folders']): SplitFolders | undefined {
  const found: SplitFolders = {};
  for (const split of Object.keys(SPLIT_FOLDER_NAMES) as Split[]) {
    found[split] = folders.find((f) => SPLIT_FOLDER_NAMES[split].test(f.name));
  }
  return found.train && (found.val || found.test || folders.length === 1) ? found : undefined;
}

function isFolderProblem(entry: Extract<WalkEntry, { kind: 'problem' }>): boolean {
  return ['symlink-loop', 'folder-seen-twice', 'unreadable-folder'].includes(entry.reason);
}

async function checkRoot(root: string): Promise<DatasetMessage | undefined> {
  try {
    const s = await stat(root);
    if (!s.isDirectory()) {
      return {
        code: 'root-not-a-folder',
        message: `"${root}" is a file, not a folder. Choose the folder that holds one sub-folder per class.`,
      };
    }
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return {
      code: 'root-missing',
      message:
        code === 'ENOENT'
          ? `The folder "${root}" does not exist. Check the path.`
          : `The folder "${root}" cannot be opened (${code ?? String(error)}). Check its permissions.`,
    };
  }
}

function emptyScan(
  root: string,
  split: DatasetScan['split'],
  error: DatasetMessage,
  started: number,
): DatasetScan {
  return {
    root,
    layout: 'seeded',
    classes: [],
    items: [],
    problems: [],
    duplicates: [],
    warnings: [],
    errors: [error],
    fingerprint: datasetFingerprint([]),
    split,
    boxes: { pictures: 0, sources: [], problems: [] },
    stats: {
      filesSeen: 0,
      imagesUsable: 0,
      problems: 0,
      bytes: 0,
      seconds: (performance.now() - started) / 1000,
    },
  };
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason ?? new Error('The scan was cancelled.');
}

function createProgressReporter(options: ScanOptions) {
  const state: ScanProgress = { seen: 0, probed: 0, problems: 0, walkDone: false };
  const interval = options.progressIntervalMs ?? 100;
  let last = 0;
  const emit = (force = false): void => {
    if (!options.onProgress) return;
    const now = performance.now();
    if (!force && now - last < interval) return;
    last = now;
    options.onProgress({ ...state });
  };
  return {
    state,
    seen: () => {
      state.seen++;
      emit();
    },
    probed: () => {
      state.probed++;
      emit();
    },
    problem: () => {
      state.problems++;
      emit();
    },
    walkDone: () => {
      state.walkDone = true;
    },
    done: () => emit(true),
  };
}
