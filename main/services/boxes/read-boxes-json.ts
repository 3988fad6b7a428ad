// Reads the app's simple box file, boxes.json at the dataset's root: an object from each picture's path
// (relative to the dataset root, '/' separators) to its box [x0, y0, x1, y1] in picture pixels, or a list
// of boxes, each either [x0, y0, x1, y1] or { "box": [x0, y0, x1, y1], "class": "name" }. The sample
// "shapes" dataset writes this format. Pure: must not import Node, electron or anything from
// main/electron, main/backend, main/server, main/cli or renderer.

import { BoxFileError, checkedBox, preview, type LabelledBox } from './box-types.js';

export const BOXES_JSON_FILE = 'boxes.json';

function parseOne(value: unknown, file: string, where: string): LabelledBox {
  if (Array.isArray(value)) return { box: checkedBox(value, file, where) };
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (!Array.isArray(o.box))
      throw new BoxFileError(file, `${where}: expected "box": [x0, y0, x1, y1], got ${preview(value)}.`);
    const label = o.class ?? o.label;
    if (label !== undefined && typeof label !== 'string')
      throw new BoxFileError(file, `${where}: "class" should be a name, got ${preview(label)}.`);
    return { box: checkedBox(o.box, file, where), ...(label !== undefined ? { label } : {}) };
  }
  throw new BoxFileError(file, `${where}: expected a box, got ${preview(value)}.`);
}

/** Parses boxes.json text; `file` names it in errors. Returns relative path -> boxes. */
export function parseBoxesJson(text: string, file: string): Map<string, LabelledBox[]> {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new BoxFileError(file, `not valid JSON (${(error as Error).message}).`);
  }
  if (!data || typeof data !== 'object' || Array.isArray(data))
    throw new BoxFileError(
      file,
      'expected an object from picture paths to boxes, e.g. {"cat/1.jpg": [10, 20, 50, 60]}.',
    );
  const out = new Map<string, LabelledBox[]>();
  for (const [path, value] of Object.entries(data as Record<string, unknown>)) {
    const where = `"${path}"`;
    const many = Array.isArray(value) && value.length > 0 && typeof value[0] !== 'number';
    const list = many ? (value as unknown[]) : [value];
    out.set(
      path.replace(/\\/g, '/').replace(/^\.\//, ''),
      list.map((v, i) => parseOne(v, file, many ? `${where}[${i}]` : where)),
    );
  }
  return out;
}
