// Finds and reads the object boxes of a dataset's pictures, whatever format they come in:
//   - boxes.json at the dataset's root (read-boxes-json.ts);
//   - COCO JSON: any other *.json at the root that has "images" and "annotations" (read-coco.ts);
//   - Pascal VOC XML: <name>.xml beside the picture, or in Annotations/ at the root, either as
//     Annotations/<name>.xml or mirroring the picture's path (read-voc.ts);
//   - YOLO txt: <name>.txt beside the picture, or in labels/ at the root, as labels/<name>.txt or mirroring
//     the picture's path; class names from classes.txt (root or labels/) or data.yaml (read-yolo.ts);
//   - or one file the user names (boxes.json or COCO, told apart by content).
// A picture's boxes come from the first of these that has any for it. Paths in boxes.json and COCO file
// names match a picture's path relative to the dataset root or to the box file's folder; COCO file names
// also match a picture's file name when only one picture has that name.
// Coordinates are pixels of the picture as displayed, EXIF orientation applied (docs/boxes.md). A file that
// cannot be read or parsed is reported in `problems` and skipped: it never stops the scan or the
// evaluation. This module reads the JSON files; sidecar-boxes.ts the VOC and YOLO files; box-collector.ts
// matches what they name to the pictures. Must not import electron or anything from main/electron,
// main/backend, main/server, main/cli or renderer.

import { readdir } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { BoxCollector } from './box-collector.js';
import type { BoxFormat, LabelledBox } from './box-types.js';
import { readBoxText } from './read-box-text.js';
import { BOXES_JSON_FILE, parseBoxesJson } from './read-boxes-json.js';
import { looksLikeCoco, parseCocoJson } from './read-coco.js';
import { readSidecarBoxes } from './sidecar-boxes.js';

export { BOX_FOLDERS, BOX_SIDECAR } from './sidecar-boxes.js';

/** The facts about a picture that finding its boxes needs (a DatasetItem has them). */
export interface BoxedPicture {
  path: string;
  /** Relative to the dataset root, '/' separators. */
  relativePath: string;
  /** Size as displayed (EXIF orientation applied): YOLO fractions are scaled by it. */
  width: number;
  height: number;
}

export interface BoxProblem {
  file: string;
  message: string;
}

export interface DatasetBoxes {
  /** relativePath -> its boxes (only pictures with at least one box). */
  boxes: Map<string, LabelledBox[]>;
  /** Formats found, with how many pictures got their boxes from each. */
  sources: { format: BoxFormat; file: string; pictures: number }[];
  problems: BoxProblem[];
}

export interface FindBoxesOptions {
  /** A boxes.json or COCO file to read instead of looking for files at the root. */
  boxesFile?: string;
}

/** Reads every box of the dataset at `root` for `pictures` (see the module comment). Never throws for bad files. */
export async function findDatasetBoxes(
  root: string,
  pictures: readonly BoxedPicture[],
  options: FindBoxesOptions = {},
): Promise<DatasetBoxes> {
  const absoluteRoot = resolve(root);
  const collector = new BoxCollector(absoluteRoot, pictures);
  // 1. JSON files: the one named, or boxes.json and COCO files at the root.
  for (const file of await jsonBoxFiles(absoluteRoot, options.boxesFile)) {
    try {
      await readJsonBoxFile(file, Boolean(options.boxesFile), collector);
    } catch (error) {
      collector.report(error, file);
    }
  }
  // 2. VOC and YOLO files beside the pictures or in Annotations/ and labels/.
  await readSidecarBoxes(absoluteRoot, pictures, collector);
  return collector.result();
}

/** The JSON files to read: the one named, else every *.json at the root; boxes.json first. */
async function jsonBoxFiles(root: string, boxesFile: string | undefined): Promise<string[]> {
  const files = boxesFile
    ? [resolve(boxesFile)]
    : (await listRootFiles(root)).filter((f) => /\.json$/i.test(f)).map((f) => join(root, f));
  files.sort((a, b) => Number(basename(b) === BOXES_JSON_FILE) - Number(basename(a) === BOXES_JSON_FILE));
  return files;
}

/** Reads one JSON file as COCO or boxes.json; other JSON at the root (not named by the user) is passed over. */
async function readJsonBoxFile(file: string, named: boolean, collector: BoxCollector): Promise<void> {
  const text = await readBoxText(file);
  if (basename(file) !== BOXES_JSON_FILE && !named) {
    // Other JSON at the root (a manifest, a config): read only when it is COCO.
    if (!/"annotations"/.test(text) || !looksLikeCoco(safeJson(text))) return;
  }
  if (looksLikeCoco(safeJson(text))) collector.take('coco', file, parseCocoJson(text, file), true);
  else collector.take('boxes-json', file, parseBoxesJson(text, file), false);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

async function listRootFiles(root: string): Promise<string[]> {
  try {
    return (await readdir(root, { withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name);
  } catch {
    return [];
  }
}

/**
 * The boxes that count for a picture of class `label`: those labelled with it (case-insensitive), and
 * every box without a class name; boxes of other classes are left out.
 */
export function boxesOfClass(list: readonly LabelledBox[], label: string): LabelledBox[] {
  const want = label.toLowerCase();
  return list.filter((b) => b.label === undefined || b.label.toLowerCase() === want);
}
