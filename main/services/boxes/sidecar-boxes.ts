// The per-picture box files: Pascal VOC XML (read-voc.ts) and YOLO txt (read-yolo.ts), found beside the
// picture as <name>.xml / <name>.txt, or in Annotations/ and labels/ at the dataset's root, either by
// name or mirroring the picture's path. A picture with both takes VOC's boxes. YOLO class names come
// from classes.txt (root or labels/) or data.yaml. Used by find-boxes.ts, after the JSON files. Must not
// import electron or anything from main/electron, main/backend, main/server, main/cli or renderer.

import { readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { BoxCollector } from './box-collector.js';
import type { LabelledBox } from './box-types.js';
import type { BoxedPicture } from './find-boxes.js';
import { readBoxText } from './read-box-text.js';
import { parseVocXml } from './read-voc.js';
import { parseClassesTxt, parseDataYamlNames, parseYoloTxt } from './read-yolo.js';

const ANNOTATIONS_FOLDER = 'Annotations';
const LABELS_FOLDER = 'labels';
/** Folders at a dataset's root that hold boxes, not pictures (the scan does not take them for classes). */
export const BOX_FOLDERS: readonly string[] = [ANNOTATIONS_FOLDER, LABELS_FOLDER];
/** Files in class folders that are boxes beside their pictures (the scan does not report them). */
export const BOX_SIDECAR = /\.(xml|txt)$/i;

/** Where a picture's box files may be: beside it, and in the root's box folders. */
interface SidecarPlaces {
  root: string;
  /** Folder of pictures -> the box files in it. */
  beside: Map<string, Set<string>>;
  /** Files under Annotations/ and labels/, relative to those folders. */
  annotations: Set<string>;
  labels: Set<string>;
}

/** Reads the VOC and YOLO boxes of the pictures that have none yet into `collector`. */
export async function readSidecarBoxes(
  root: string,
  pictures: readonly BoxedPicture[],
  collector: BoxCollector,
): Promise<void> {
  const places: SidecarPlaces = {
    root,
    annotations: new Set(await listFiles(join(root, ANNOTATIONS_FOLDER))),
    labels: new Set(await listFiles(join(root, LABELS_FOLDER))),
    beside: await sidecarsBeside(pictures),
  };
  const yoloNames = await readYoloNames(root, places.labels, collector.report);
  const counts = { voc: 0, yolo: 0 };
  for (const p of pictures) {
    if (collector.boxes.has(p.relativePath)) continue;
    const voc = sidecarOf(p, 'xml', places, ANNOTATIONS_FOLDER, places.annotations);
    const yolo = sidecarOf(p, 'txt', places, LABELS_FOLDER, places.labels);
    try {
      const found = await readPictureSidecars(p, voc, yolo, yoloNames);
      if (found) {
        collector.boxes.set(p.relativePath, found.boxes);
        counts[found.format]++;
      }
    } catch (error) {
      collector.report(error, voc ?? (yolo as string));
    }
  }
  if (counts.voc > 0) collector.sources.push({ format: 'voc', file: root, pictures: counts.voc });
  if (counts.yolo > 0) collector.sources.push({ format: 'yolo', file: root, pictures: counts.yolo });
}

/** The picture's boxes from its VOC file, else its YOLO file; undefined when neither has any. */
async function readPictureSidecars(
  p: BoxedPicture,
  voc: string | undefined,
  yolo: string | undefined,
  yoloNames: string[] | undefined,
): Promise<{ format: 'voc' | 'yolo'; boxes: LabelledBox[] } | undefined> {
  if (voc) {
    const boxes = parseVocXml(await readBoxText(voc), voc).boxes;
    if (boxes.length > 0) return { format: 'voc', boxes };
  }
  if (yolo) {
    const boxes = parseYoloTxt(await readBoxText(yolo), yolo, p.width, p.height, yoloNames);
    if (boxes.length > 0) return { format: 'yolo', boxes };
  }
  return undefined;
}

/**
 * The picture's <name>.<ext>: beside it, else in the root's `folder` mirroring its path, else there by
 * name; undefined when there is none.
 */
function sidecarOf(
  p: BoxedPicture,
  ext: 'xml' | 'txt',
  places: SidecarPlaces,
  folder: string,
  inFolder: ReadonlySet<string>,
): string | undefined {
  const name = stem(basename(p.relativePath));
  const rel = stem(p.relativePath);
  const here = places.beside.get(dirname(p.path)) as Set<string>;
  if (here.has(`${name}.${ext}`)) return join(dirname(p.path), `${name}.${ext}`);
  if (inFolder.has(`${rel}.${ext}`)) return join(places.root, folder, `${rel}.${ext}`);
  if (inFolder.has(`${name}.${ext}`)) return join(places.root, folder, `${name}.${ext}`);
  return undefined;
}

/** The box files in each folder that holds pictures (none for a folder that cannot be read). */
async function sidecarsBeside(pictures: readonly BoxedPicture[]): Promise<Map<string, Set<string>>> {
  const beside = new Map<string, Set<string>>();
  for (const p of pictures) {
    const dir = dirname(p.path);
    if (beside.has(dir)) continue;
    let names: string[] = [];
    try {
      names = (await readdir(dir)).filter((n) => BOX_SIDECAR.test(n));
    } catch {
      // unreadable folder: no sidecars
    }
    beside.set(dir, new Set(names));
  }
  return beside;
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
      return parseClassesTxt(await readBoxText(file));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') report(error, file);
    }
  }
  for (const file of [join(root, 'data.yaml'), join(root, 'data.yml')]) {
    try {
      return parseDataYamlNames(await readBoxText(file), file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') report(error, file);
    }
  }
  return undefined;
}
