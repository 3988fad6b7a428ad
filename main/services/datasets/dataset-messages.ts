// Turns the facts of a scan into messages a person can act on: errors that stop training (no images, one
// class, a class with nothing to train on) and warnings (tiny classes, imbalance, empty folders, skipped
// files, duplicates). Pure: must not import electron or anything from main/electron, main/backend, main/server, main/cli
// or renderer.
import type {
  DatasetClass,
  DatasetMessage,
  DatasetProblem,
  DuplicateGroup,
  ProblemReason,
} from './dataset-types.js';

/** Largest / smallest class size above which a warning is given (default). */
export const DEFAULT_IMBALANCE_RATIO = 10;

export interface MessageFacts {
  classes: readonly DatasetClass[];
  /** Class folders (by name) that held no usable image, with how many files they held. */
  emptyFolders: readonly { name: string; relativePath: string; files: number }[];
  problems: readonly DatasetProblem[];
  duplicates: readonly DuplicateGroup[];
  layout: 'folders' | 'seeded';
  /** Which split folders exist (folders layout). */
  splitFolders: { val: boolean; test: boolean };
  /** Root-level folders ignored because the dataset has split folders. */
  ignoredFolders: readonly string[];
  imbalanceRatio: number;
}

const EXAMPLES = 5;
const examples = (paths: readonly string[]): string[] => paths.slice(0, EXAMPLES);
const list = (names: readonly string[]): string =>
  names.length <= EXAMPLES
    ? names.join(', ')
    : `${names.slice(0, EXAMPLES).join(', ')} and ${names.length - EXAMPLES} more`;
const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

type Messages = { errors: DatasetMessage[]; warnings: DatasetMessage[] };
/** One check of the facts: adds the errors and warnings it finds. */
type Check = (facts: MessageFacts, out: Messages) => void;

/** No images at all, or a single class: nothing a classifier can learn. */
function checkClassCount({ classes, problems }: MessageFacts, { errors }: Messages): void {
  const outside = problems.filter((p) => p.reason === 'outside-class-folder');
  if (classes.length === 0) {
    errors.push({
      code: 'no-images',
      message:
        outside.length > 0
          ? `No usable images in class folders. ${plural(outside.length, 'image')} sit directly in the folder: ` +
            'put each class in its own sub-folder named after the class (for example cats/ and dogs/).'
          : 'No usable images found. The folder needs one sub-folder per class (for example cats/ and dogs/) ' +
            'with JPEG, PNG, WebP, GIF, BMP or TIFF images inside.',
      paths: examples(outside.map((p) => p.path)),
    });
  } else if (classes.length === 1) {
    errors.push({
      code: 'single-class',
      message:
        `Only one class ("${classes[0].name}") has images: a classifier needs at least 2 classes. ` +
        'Add a sub-folder of images for each other class.',
      classes: [classes[0].name],
    });
  }
}

/** Classes with fewer than 2 images. */
function checkTinyClasses({ classes }: MessageFacts, { warnings }: Messages): void {
  const tiny = classes.filter((c) => c.count < 2);
  if (tiny.length === 0) return;
  warnings.push({
    code: 'class-too-small',
    message:
      `${list(tiny.map((c) => `"${c.name}"`))} ${tiny.length === 1 ? 'has' : 'have'} fewer than 2 images: ` +
      'such a class cannot be both trained and validated. Add images (dozens per class give useful results).',
    classes: tiny.map((c) => c.name),
  });
}

/** Folders layout: a class with no training images (an error), or none in val/ (a warning). */
function checkSplitFolders(facts: MessageFacts, { errors, warnings }: Messages): void {
  if (facts.layout !== 'folders') return;
  const { classes } = facts;
  const noTrain = classes.filter((c) => c.splits.train === 0);
  if (noTrain.length > 0) {
    errors.push({
      code: 'class-missing-from-split',
      message:
        `${list(noTrain.map((c) => `"${c.name}"`))} ${noTrain.length === 1 ? 'has' : 'have'} images only in ` +
        'val/ or test/, none in train/: the model cannot learn a class it never sees. Add training images.',
      classes: noTrain.map((c) => c.name),
    });
  }
  const noVal = facts.splitFolders.val ? classes.filter((c) => c.splits.val === 0 && c.splits.train > 0) : [];
  if (noVal.length > 0) {
    warnings.push({
      code: 'class-missing-from-split',
      message: `${list(noVal.map((c) => `"${c.name}"`))} ${noVal.length === 1 ? 'has' : 'have'} no images in val/, so validation cannot measure ${noVal.length === 1 ? 'it' : 'them'}.`,
      classes: noVal.map((c) => c.name),
    });
  }
}

/** The largest class more than imbalanceRatio times the smallest. */
function checkImbalance({ classes, imbalanceRatio }: MessageFacts, { warnings }: Messages): void {
  if (classes.length < 2) return;
  const sorted = [...classes].sort((a, b) => b.count - a.count);
  const largest = sorted[0];
  const smallest = sorted[sorted.length - 1];
  if (!(smallest.count > 0 && largest.count / smallest.count > imbalanceRatio)) return;
  warnings.push({
    code: 'imbalance',
    message:
      `The classes are very unequal: "${largest.name}" has ${largest.count} images, "${smallest.name}" only ` +
      `${smallest.count} (${(largest.count / smallest.count).toFixed(1)} times fewer). The model will favour the ` +
      'large classes; add images to the small ones, or use class weighting.',
    classes: [largest.name, smallest.name],
  });
}

/** Class folders that gave no usable image. */
function checkEmptyFolders({ emptyFolders }: MessageFacts, { warnings }: Messages): void {
  for (const folder of emptyFolders) {
    warnings.push({
      code: 'empty-folder',
      message:
        folder.files === 0
          ? `The folder "${folder.relativePath}" has no images, so "${folder.name}" is not used as a class.`
          : `None of the ${plural(folder.files, 'file')} in "${folder.relativePath}" could be used (see the skipped ` +
            `files), so "${folder.name}" is not used as a class.`,
      classes: [folder.name],
      paths: [folder.relativePath],
    });
  }
}

/** Root-level folders left out because the dataset has split folders. */
function checkIgnoredFolders({ ignoredFolders }: MessageFacts, { warnings }: Messages): void {
  if (ignoredFolders.length === 0) return;
  warnings.push({
    code: 'ignored-folder',
    message:
      `The dataset is split into train/ and val/ (or test/) folders, so ${list(ignoredFolders.map((f) => `"${f}"`))} ` +
      'beside them ' +
      (ignoredFolders.length === 1 ? 'was' : 'were') +
      ' ignored.',
    paths: [...ignoredFolders],
  });
}

/** Files and folders skipped (hidden and system files are not worth a word), counted by reason. */
function checkSkippedFiles({ problems }: MessageFacts, { warnings }: Messages): void {
  const skipped = problems.filter((p) => p.reason !== 'hidden' && p.reason !== 'system-file');
  if (skipped.length === 0) return;
  const counts = new Map<ProblemReason, number>();
  for (const p of skipped) counts.set(p.reason, (counts.get(p.reason) ?? 0) + 1);
  const breakdown = [...counts].map(([reason, n]) => `${n} ${reason}`).join(', ');
  warnings.push({
    code: 'files-skipped',
    message: `${skipped.length} ${skipped.length === 1 ? 'file or folder was' : 'files or folders were'} skipped (${breakdown}). The list says why for each.`,
    paths: examples(skipped.map((p) => p.path)),
  });
}

/** The same picture under two labels. */
function checkDuplicatesAcrossClasses({ duplicates }: MessageFacts, { warnings }: Messages): void {
  const across = duplicates.filter((d) => d.kind === 'across-classes');
  if (across.length === 0) return;
  warnings.push({
    code: 'duplicates-across-classes',
    message:
      `${plural(across.length, 'picture')} appear${across.length === 1 ? 's' : ''} in more than one class ` +
      `(identical files with different labels, e.g. ${across[0].paths.slice(0, 2).join(' and ')}). ` +
      'Decide which class each belongs to and remove the other copies.',
    classes: [...new Set(across.flatMap((d) => d.labels))],
    paths: examples(across.flatMap((d) => d.paths)),
  });
}

/** The same picture in more than one split: validation leaks. */
function checkDuplicatesAcrossSplits({ duplicates }: MessageFacts, { warnings }: Messages): void {
  const crossSplit = duplicates.filter((d) => d.kind === 'within-class' && d.splits.length > 1);
  if (crossSplit.length === 0) return;
  warnings.push({
    code: 'duplicates-across-splits',
    message:
      `${plural(crossSplit.length, 'picture')} ${crossSplit.length === 1 ? 'is' : 'are'} in more than one of ` +
      'train/, val/ and test/: validation scores will look better than they are. Keep each picture in one split.',
    paths: examples(crossSplit.flatMap((d) => d.paths)),
  });
}

/** Exact copies within a class: harmless, but useless. */
function checkDuplicatesWithinClass({ duplicates }: MessageFacts, { warnings }: Messages): void {
  const within = duplicates.filter((d) => d.kind === 'within-class');
  if (within.length === 0) return;
  const extra = within.reduce((n, d) => n + d.paths.length - 1, 0);
  warnings.push({
    code: 'duplicates-within-class',
    message: `${plural(extra, 'file')} ${extra === 1 ? 'is an exact copy' : 'are exact copies'} of another file in the same class. They do no harm but add nothing; you may delete them.`,
    paths: examples(within.flatMap((d) => d.paths)),
  });
}

/** The checks, in the order their messages are listed. */
const CHECKS: readonly Check[] = [
  checkClassCount,
  checkTinyClasses,
  checkSplitFolders,
  checkImbalance,
  checkEmptyFolders,
  checkIgnoredFolders,
  checkSkippedFiles,
  checkDuplicatesAcrossClasses,
  checkDuplicatesAcrossSplits,
  checkDuplicatesWithinClass,
];

/** Every error and warning the facts call for (see the module comment). */
export function datasetMessages(facts: MessageFacts): {
  errors: DatasetMessage[];
  warnings: DatasetMessage[];
} {
  const out: Messages = { errors: [], warnings: [] };
  for (const check of CHECKS) check(facts, out);
  return out;
}
