// The shapes of a dataset scan: what the scan found, what it skipped and why, and what the user should
// know before training. Plain JSON-serialisable data (the UI shows it as is). Must not import electron or
// anything from main/electron, main/backend, main/server, main/cli or renderer.
import type { ImageErrorReason } from '../images/image-error.js';
import type { ImageFormat } from '../images/image-format.js';

export type Split = 'train' | 'val' | 'test';
export const SPLITS: readonly Split[] = ['train', 'val', 'test'];

/** One usable image. */
export interface DatasetItem {
  /** Absolute path (what the decoder opens). */
  path: string;
  /** Path relative to the dataset root, with '/' separators (what the UI shows and the fingerprint uses). */
  relativePath: string;
  /** Class name = the folder name. */
  label: string;
  /** Index of the class in DatasetScan.classes (classes are sorted by name). */
  classIndex: number;
  split: Split;
  format: ImageFormat;
  /** Size after EXIF orientation. */
  width: number;
  height: number;
  /** File size. */
  bytes: number;
  /** SHA-256 of the file content, hex. */
  sha256: string;
}

/** Why a file or folder was skipped. */
export type ProblemReason =
  | ImageErrorReason
  | 'hidden' // name starts with '.'
  | 'system-file' // OS junk: .DS_Store, Thumbs.db, desktop.ini, AppleDouble '._*', __MACOSX
  | 'symlink-loop' // a link to a folder that contains it
  | 'folder-seen-twice' // a link to a folder already scanned elsewhere in the dataset
  | 'broken-link' // a link to nothing
  | 'link-outside-folder' // a link whose target (links resolved) is outside the dataset folder
  | 'not-a-file' // a socket, pipe or device
  | 'unreadable-folder' // the folder cannot be listed
  | 'outside-class-folder'; // an image directly in the root (or the split folder), not in a class folder

export interface DatasetProblem {
  /** Path relative to the root, '/' separators. */
  path: string;
  reason: ProblemReason;
  /** Plain words: what is wrong and what to do. */
  message: string;
}

/** A group of files with identical content. */
export interface DuplicateGroup {
  sha256: string;
  /** Relative paths, sorted. */
  paths: string[];
  /** The classes involved (sorted); more than one means the same picture carries different labels. */
  labels: string[];
  /** 'within-class': harmless but wasteful; 'across-classes': a labelling conflict. */
  kind: 'within-class' | 'across-classes';
  /** The splits involved; more than one means validation sees training images. */
  splits: Split[];
}

export type DatasetMessageCode =
  | 'root-missing'
  | 'root-not-a-folder'
  | 'no-images'
  | 'single-class'
  | 'class-too-small'
  | 'class-missing-from-split'
  | 'empty-folder'
  | 'imbalance'
  | 'duplicates-across-classes'
  | 'duplicates-across-splits'
  | 'duplicates-within-class'
  | 'ignored-folder'
  | 'files-skipped'
  | 'cancelled';

/** Something the user should read; errors mean training cannot start. */
export interface DatasetMessage {
  code: DatasetMessageCode;
  message: string;
  /** Classes concerned, if any. */
  classes?: string[];
  /** Relative paths concerned, if any (a few examples, not all). */
  paths?: string[];
}

export interface DatasetClass {
  name: string;
  /** Usable images. */
  count: number;
  /** Files found in the class folder(s), usable or not. */
  files: number;
  /** Usable images per split. */
  splits: Record<Split, number>;
}

export interface DatasetScan {
  /** Absolute path of the dataset folder. */
  root: string;
  /** 'folders': train/ val/ (test/) folders in the dataset; 'seeded': split here with the seed. */
  layout: 'folders' | 'seeded';
  /** Sorted by name; classIndex refers to this order. */
  classes: DatasetClass[];
  /** Sorted by relative path. */
  items: DatasetItem[];
  /** Skipped files and folders, sorted by path. */
  problems: DatasetProblem[];
  duplicates: DuplicateGroup[];
  warnings: DatasetMessage[];
  /** Non-empty means training cannot start on this folder as it is. */
  errors: DatasetMessage[];
  /** SHA-256 of the sorted "relative path TAB sha256 NEWLINE" lines of the items: same files, same print. */
  fingerprint: string;
  /** How the split was made (for reproducing it). */
  split: { valFraction: number; testFraction: number; seed: number };
  /** Object boxes found for the pictures (boxes/find-boxes.ts): how many have any, from which files. */
  boxes: {
    pictures: number;
    sources: { format: 'boxes-json' | 'coco' | 'voc' | 'yolo'; file: string; pictures: number }[];
    /** Box files that could not be used, and why. */
    problems: { file: string; message: string }[];
  };
  /** Totals. */
  stats: { filesSeen: number; imagesUsable: number; problems: number; bytes: number; seconds: number };
}

export interface ScanProgress {
  /** Files found so far by the folder walk. */
  seen: number;
  /** Files checked so far (hashed and probed). */
  probed: number;
  problems: number;
  /** True once the walk has finished (then `seen` is the total). */
  walkDone: boolean;
}
