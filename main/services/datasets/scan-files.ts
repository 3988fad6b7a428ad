// The second step of a dataset scan (scan-dataset.ts): walks each class folder (walk-folder.ts) and checks
// its files (check-image-file.ts) a bounded number at a time, keeping only path, size, hash and dimensions
// per usable file and a reason for every file or folder skipped. Class folders are reserved before the
// walk, so a link in one class to another class's folder cannot move those images into the wrong class.
// Must not import electron or anything from main/electron, main/backend, main/server, main/cli or renderer.
import { BOX_SIDECAR } from '../boxes/find-boxes.js';
import { checkImageFile } from './check-image-file.js';
import type { DatasetItem, DatasetProblem, Split } from './dataset-types.js';
import type { ScanOptions } from './scan-dataset.js';
import type { ClassFolder } from './scan-layout.js';
import type { ProgressReporter } from './scan-progress.js';
import { folderId, walkFolder, type WalkEntry, type WalkState } from './walk-folder.js';

/** A usable image, before classes and splits are known. */
export interface FoundItem extends Omit<DatasetItem, 'classIndex' | 'split'> {
  folderSplit: Split | undefined;
}

/** Files in a class folder (box files beside pictures not counted), and how many of them are usable. */
export interface FolderTally {
  files: number;
  usable: number;
}

export interface CheckedFiles {
  found: FoundItem[];
  filesPerFolder: Map<ClassFolder, FolderTally>;
}

/** What checking the files needs besides the folders; the problems found are added to `problems`. */
export interface FileCheck {
  state: WalkState;
  options: ScanOptions;
  progress: ProgressReporter;
  problems: DatasetProblem[];
}

/** Walks and checks every class folder (see the module comment). Rejects when the scan is cancelled. */
export async function checkClassFolders(
  classFolders: readonly ClassFolder[],
  check: FileCheck,
): Promise<CheckedFiles> {
  await reserveClassFolders(classFolders, check.state);
  const checked: CheckedFiles = { found: [], filesPerFolder: new Map() };
  const tasks = new BoundedTasks(Math.max(1, check.options.concurrency ?? 4));
  for (const folder of classFolders) {
    const tally: FolderTally = { files: 0, usable: 0 };
    checked.filesPerFolder.set(folder, tally);
    await walkClassFolder(folder, tally, checked.found, tasks, check);
  }
  check.progress.walkDone();
  await tasks.all();
  throwIfAborted(check.options.signal);
  return checked;
}

async function reserveClassFolders(classFolders: readonly ClassFolder[], state: WalkState): Promise<void> {
  for (const folder of classFolders) {
    try {
      state.reserved.add(await folderId(folder.path));
    } catch {
      // Unreadable: walkFolder reports it below.
    }
  }
}

/** Walks one class folder, starting a check of each of its files. */
async function walkClassFolder(
  folder: ClassFolder,
  tally: FolderTally,
  found: FoundItem[],
  tasks: BoundedTasks,
  { state, options, progress, problems }: FileCheck,
): Promise<void> {
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
    await tasks.add(
      checkOne(entry, folder, options).then((result) => {
        if ('problem' in result) {
          problems.push(result.problem);
          progress.problem();
        } else {
          found.push(result.item);
          tally.usable++;
        }
        progress.probed();
      }),
    );
  }
}

/** Promises in flight, at most `limit`: add() waits for one to settle when the limit is reached. */
class BoundedTasks {
  private readonly inFlight = new Set<Promise<void>>();
  constructor(private readonly limit: number) {}

  async add(task: Promise<void>): Promise<void> {
    const tracked: Promise<void> = task.finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
    if (this.inFlight.size >= this.limit) await Promise.race(this.inFlight);
  }

  async all(): Promise<void> {
    await Promise.all(this.inFlight);
  }
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

function isFolderProblem(entry: Extract<WalkEntry, { kind: 'problem' }>): boolean {
  return ['symlink-loop', 'folder-seen-twice', 'unreadable-folder'].includes(entry.reason);
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason ?? new Error('The scan was cancelled.');
}
