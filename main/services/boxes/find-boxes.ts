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
// evaluation. Must not import electron or anything from main/electron, main/server, main/cli or renderer.

import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { BoxFileError, MAX_BOX_FILE_BYTES, type BoxFormat, type LabelledBox } from './box-types.js';
import { BOXES_JSON_FILE, parseBoxesJson } from './read-boxes-json.js';
import { looksLikeCoco, parseCocoJson } from './read-coco.js';
import { parseVocXml } from './read-voc.js';
import { parseClassesTxt, parseDataYamlNames, parseYoloTxt } from './read-yolo.js';

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

const ANNOTATIONS_FOLDER = 'Annotations';
const LABELS_FOLDER = 'labels';
/** Folders at a dataset's root that hold boxes, not pictures (the scan does not take them for classes). */
export const BOX_FOLDERS: readonly string[] = [ANNOTATIONS_FOLDER, LABELS_FOLDER];
/** Files in class folders that are boxes beside their pictures (the scan does not report them). */
export const BOX_SIDECAR = /\.(xml|txt)$/i;

async function readText(file: string): Promise<string> {
  const info = await stat(file);
  if (info.size > MAX_BOX_FILE_BYTES)
    throw new BoxFileError(file, `the file is ${info.size} bytes, more than the ${MAX_BOX_FILE_BYTES} read.`);
  return readFile(file, 'utf8');
}

/** Every file under `dir` ('/'-separated paths relative to it); empty when it does not exist. */
async function listFiles(dir: string, prefix = '', depth = 0): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const e of entries) {
    const rel = prefix === '' ? e.name : `${prefix}/${e.name}`;
    if (e.isDirectory() && depth < 8) out.push(...(await listFiles(join(dir, e.name), rel, depth + 1)));
    else if (e.isFile()) out.push(rel);
  }
  return out;
}

function stem(path: string): string {
  return path.replace(/\.[^./]*$/, '');
}

/** Reads every box of the dataset at `root` for `pictures` (see the module comment). Never throws for bad files. */
export async function findDatasetBoxes(
  root: string,
  pictures: readonly BoxedPicture[],
  options: FindBoxesOptions = {},
): Promise<DatasetBoxes> {
  const absoluteRoot = resolve(root);
  const boxes = new Map<string, LabelledBox[]>();
  const problems: BoxProblem[] = [];
  const sources: DatasetBoxes['sources'] = [];
  const wanted = new Set(pictures.map((p) => p.relativePath));
  const byName = new Map<string, string[]>();
  for (const p of pictures) {
    const name = basename(p.relativePath);
    byName.set(name, [...(byName.get(name) ?? []), p.relativePath]);
  }
  const report = (error: unknown, file: string): void => {
    problems.push({
      file,
      message: error instanceof BoxFileError ? error.message : `${file}: ${(error as Error).message}`,
    });
  };
  const take = (
    format: BoxFormat,
    file: string,
    found: Map<string, LabelledBox[]>,
    byFileName: boolean,
  ): void => {
    let taken = 0;
    for (const [path, list] of found) {
      let key = path.replace(/^\.\//, '');
      if (!wanted.has(key)) {
        // A path relative to the box file's own folder (a file given from elsewhere, e.g. the dataset
        // root's boxes.json used for its test/ folder).
        const fromFile = relative(absoluteRoot, resolve(dirname(file), key))
          .split(sep)
          .join('/');
        if (wanted.has(fromFile)) key = fromFile;
      }
      if (!wanted.has(key) && byFileName) {
        const same = byName.get(basename(key));
        if (same?.length === 1) key = same[0];
      }
      if (!wanted.has(key) || boxes.has(key) || list.length === 0) continue;
      boxes.set(key, list);
      taken++;
    }
    if (taken > 0) sources.push({ format, file, pictures: taken });
  };

  // 1. JSON files: the one named, or boxes.json and COCO files at the root.
  const jsonFiles = options.boxesFile
    ? [resolve(options.boxesFile)]
    : (await listRootFiles(absoluteRoot)).filter((f) => /\.json$/i.test(f)).map((f) => join(absoluteRoot, f));
  jsonFiles.sort((a, b) => Number(basename(b) === BOXES_JSON_FILE) - Number(basename(a) === BOXES_JSON_FILE));
  for (const file of jsonFiles) {
    try {
      const text = await readText(file);
      if (basename(file) !== BOXES_JSON_FILE && !options.boxesFile) {
        // Other JSON at the root (a manifest, a config): read only when it is COCO.
        if (!/"annotations"/.test(text) || !looksLikeCoco(safeJson(text))) continue;
      }
      if (looksLikeCoco(safeJson(text))) take('coco', file, parseCocoJson(text, file), true);
      else take('boxes-json', file, parseBoxesJson(text, file), false);
    } catch (error) {
      report(error, file);
    }
  }

  // 2. VOC and YOLO files beside the pictures or in Annotations/ and labels/.
  const annotations = new Set(await listFiles(join(absoluteRoot, ANNOTATIONS_FOLDER)));
  const labels = new Set(await listFiles(join(absoluteRoot, LABELS_FOLDER)));
  const beside = new Map<string, Set<string>>();
  for (const p of pictures) {
    const dir = dirname(p.path);
    if (!beside.has(dir)) {
      let names: string[] = [];
      try {
        names = (await readdir(dir)).filter((n) => BOX_SIDECAR.test(n));
      } catch {
        // unreadable folder: no sidecars
      }
      beside.set(dir, new Set(names));
    }
  }
  const yoloNames = await readYoloNames(absoluteRoot, labels, report);
  const counts = { voc: 0, yolo: 0 };
  for (const p of pictures) {
    if (boxes.has(p.relativePath)) continue;
    const name = stem(basename(p.relativePath));
    const rel = stem(p.relativePath);
    const here = beside.get(dirname(p.path)) as Set<string>;
    const voc = here.has(`${name}.xml`)
      ? join(dirname(p.path), `${name}.xml`)
      : annotations.has(`${rel}.xml`)
        ? join(absoluteRoot, ANNOTATIONS_FOLDER, `${rel}.xml`)
        : annotations.has(`${name}.xml`)
          ? join(absoluteRoot, ANNOTATIONS_FOLDER, `${name}.xml`)
          : undefined;
    const yolo = here.has(`${name}.txt`)
      ? join(dirname(p.path), `${name}.txt`)
      : labels.has(`${rel}.txt`)
        ? join(absoluteRoot, LABELS_FOLDER, `${rel}.txt`)
        : labels.has(`${name}.txt`)
          ? join(absoluteRoot, LABELS_FOLDER, `${name}.txt`)
          : undefined;
    try {
      if (voc) {
        const list = parseVocXml(await readText(voc), voc).boxes;
        if (list.length > 0) {
          boxes.set(p.relativePath, list);
          counts.voc++;
          continue;
        }
      }
      if (yolo) {
        const list = parseYoloTxt(await readText(yolo), yolo, p.width, p.height, yoloNames);
        if (list.length > 0) {
          boxes.set(p.relativePath, list);
          counts.yolo++;
        }
      }
    } catch (error) {
      report(error, voc ?? (yolo as string));
    }
  }
  if (counts.voc > 0) sources.push({ format: 'voc', file: absoluteRoot, pictures: counts.voc });
  if (counts.yolo > 0) sources.push({ format: 'yolo', file: absoluteRoot, pictures: counts.yolo });
  return { boxes, sources, problems };
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

/** YOLO class names: classes.txt at the root or in labels/, else data.yaml at the root; undefined if none. */
async function readYoloNames(
  root: string,
  labels: ReadonlySet<string>,
  report: (error: unknown, file: string) => void,
): Promise<string[] | undefined> {
  const candidates = [
    join(root, 'classes.txt'),
    ...(labels.has('classes.txt') ? [join(root, LABELS_FOLDER, 'classes.txt')] : []),
  ];
  for (const file of candidates) {
    try {
      return parseClassesTxt(await readText(file));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') report(error, file);
    }
  }
  for (const file of [join(root, 'data.yaml'), join(root, 'data.yml')]) {
    try {
      return parseDataYamlNames(await readText(file), file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') report(error, file);
    }
  }
  return undefined;
}

/**
 * The boxes that count for a picture of class `label`: those labelled with it (case-insensitive), and
 * every box without a class name; boxes of other classes are left out.
 */
export function boxesOfClass(list: readonly LabelledBox[], label: string): LabelledBox[] {
  const want = label.toLowerCase();
  return list.filter((b) => b.label === undefined || b.label.toLowerCase() === want);
}
