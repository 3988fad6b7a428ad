// Scans a dataset folder: one sub-folder per class (the folder name is the label), optionally inside
// train/ + val/ (+ test/) folders, which are then respected (without val/, validation is carved out of
// train/); otherwise the images are split here, stratified by class, from a seed. The walk streams (fs.opendir) and checks files with bounded concurrency,
// keeping only path, size, hash and dimensions per file, so 50,000 files fit easily. Bad input never stops
// the scan: every skipped file or folder is listed with a reason. The steps: the layout of the class
// folders (scan-layout.ts), the walk and checks of their files (scan-files.ts, reporting through
// scan-progress.ts), then classes, splits, duplicates and messages here. Must not import electron or
// anything from main/electron, main/backend, main/server, main/cli or renderer.
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { findDatasetBoxes } from '../boxes/find-boxes.js';
import { realPathOrResolved } from '../storage/inside-folder.js';
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
import { checkClassFolders, type CheckedFiles, type FoundItem } from './scan-files.js';
import { findClassFolders, type ClassFolder, type DatasetLayout } from './scan-layout.js';
import { createProgressReporter } from './scan-progress.js';
import { DEFAULT_VAL_FRACTION, compare, splitItems } from './split-items.js';
import { createWalkState } from './walk-folder.js';

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

type SplitSettings = DatasetScan['split'];

/** Scans `root` (see the module comment). Rejects only when cancelled; everything else is in the result. */
export async function scanDataset(root: string, options: ScanOptions = {}): Promise<DatasetScan> {
  const started = performance.now();
  const absoluteRoot = resolve(root);
  const splitSettings: SplitSettings = {
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
  // 1. Top level: class folders, or split folders holding class folders.
  const layout = await findClassFolders(absoluteRoot, state, problems);
  // 2. Walk each class folder and check its files, a bounded number at a time.
  const checked = await checkClassFolders(layout.classFolders, { state, options, progress, problems });
  // 3. Classes, splits, duplicates, messages.
  const { items, classes, emptyFolders } = describeClasses(checked, layout, splitSettings);
  problems.sort((a, b) => compare(a.path, b.path));
  const duplicates = findDuplicates(items);
  const { errors, warnings } = datasetMessages({
    classes,
    emptyFolders,
    problems,
    duplicates,
    layout: layout.layout,
    splitFolders: {
      val: layout.splitFolders?.val !== undefined,
      test: layout.splitFolders?.test !== undefined,
    },
    ignoredFolders: layout.ignoredFolders,
    imbalanceRatio: options.imbalanceRatio ?? DEFAULT_IMBALANCE_RATIO,
  });
  const boxes = await findDatasetBoxes(absoluteRoot, items);
  progress.done();
  return {
    root: absoluteRoot,
    layout: layout.layout,
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

/** The items with their class index and split, the classes with their counts, and the empty class folders. */
function describeClasses(
  { found, filesPerFolder }: CheckedFiles,
  { layout, splitFolders, classFolders }: DatasetLayout,
  splitSettings: SplitSettings,
): { items: DatasetItem[]; classes: DatasetClass[]; emptyFolders: EmptyFolder[] } {
  found.sort((a, b) => compare(a.relativePath, b.relativePath));
  const classNames = [...new Set(found.map((f) => f.label))].sort(compare);
  const classIndex = new Map(classNames.map((name, i) => [name, i]));
  const splits = assignSplits(found, layout, splitFolders?.val !== undefined, splitSettings);
  const items: DatasetItem[] = found.map(({ folderSplit: _folderSplit, ...item }, i) => ({
    ...item,
    classIndex: classIndex.get(item.label) as number,
    split: splits[i],
  }));
  const filesIn = (f: ClassFolder): number => filesPerFolder.get(f)?.files ?? 0;
  const classes: DatasetClass[] = classNames.map((name) => {
    const mine = items.filter((item) => item.label === name);
    const folders = classFolders.filter((f) => f.label === name);
    return {
      name,
      count: mine.length,
      files: folders.reduce((n, f) => n + filesIn(f), 0),
      splits: {
        train: mine.filter((m) => m.split === 'train').length,
        val: mine.filter((m) => m.split === 'val').length,
        test: mine.filter((m) => m.split === 'test').length,
      },
    };
  });
  const emptyFolders = classFolders
    .filter((f) => filesPerFolder.get(f)?.usable === 0)
    .map((f) => ({ name: f.label, relativePath: f.relativePath, files: filesIn(f) }));
  return { items, classes, emptyFolders };
}

type EmptyFolder = { name: string; relativePath: string; files: number };

/** SHA-256 of the sorted "relative path TAB sha256 NEWLINE" lines: the same files give the same print. */
export function datasetFingerprint(items: readonly Pick<DatasetItem, 'relativePath' | 'sha256'>[]): string {
  const hash = createHash('sha256');
  for (const item of [...items].sort((a, b) => compare(a.relativePath, b.relativePath))) {
    hash.update(`${item.relativePath}\t${item.sha256}\n`);
  }
  return hash.digest('hex');
}

function assignSplits(
  found: readonly FoundItem[],
  layout: 'folders' | 'seeded',
  hasValFolder: boolean,
  settings: SplitSettings,
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
