// Reads YOLO label files: one line per object, "class cx cy w h", the centre and size as fractions of the
// picture's width and height (0..1), class a 0-based index into the names from classes.txt (one name a
// line) or data.yaml ("names:" as a [list], a "- name" list or "0: name" lines). Pure: must not import
// Node, electron or anything from main/electron, main/backend, main/server, main/cli or renderer.

import { BoxFileError, checkedBox, type LabelledBox } from './box-types.js';

/** Parses one label file of a width x height picture; `names` maps class indices to names when known. */
export function parseYoloTxt(
  text: string,
  file: string,
  width: number,
  height: number,
  names?: readonly string[],
): LabelledBox[] {
  const boxes: LabelledBox[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const where = `line ${i + 1}`;
    const parts = trimmed.split(/\s+/);
    if (parts.length < 5)
      throw new BoxFileError(file, `${where}: expected "class cx cy w h", got "${trimmed.slice(0, 40)}".`);
    const cls = Number(parts[0]);
    if (!Number.isInteger(cls) || cls < 0)
      throw new BoxFileError(file, `${where}: the class should be a whole number from 0, got "${parts[0]}".`);
    const [cx, cy, w, h] = parts.slice(1, 5).map(Number);
    if (![cx, cy, w, h].every((v) => Number.isFinite(v) && v >= 0 && v <= 1.000001))
      throw new BoxFileError(
        file,
        `${where}: cx cy w h should be fractions from 0 to 1, got "${parts.slice(1, 5).join(' ')}".`,
      );
    const box = checkedBox(
      [(cx - w / 2) * width, (cy - h / 2) * height, (cx + w / 2) * width, (cy + h / 2) * height],
      file,
      where,
    );
    if (names && cls >= names.length)
      throw new BoxFileError(file, `${where}: class ${cls} has no name (${names.length} names are given).`);
    boxes.push(names ? { box, label: names[cls] } : { box });
  });
  return boxes;
}

/** classes.txt: one class name a line, in index order (blank lines at the end ignored). */
export function parseClassesTxt(text: string): string[] {
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function unquote(s: string): string {
  const t = s.trim();
  return /^(['"]).*\1$/.test(t) ? t.slice(1, -1) : t;
}

/** The "names" of an Ultralytics data.yaml (list, "- name" lines or "index: name" lines); undefined if none. */
export function parseDataYamlNames(text: string, file: string): string[] | undefined {
  const lines = text.split(/\r?\n/);
  const at = lines.findIndex((l) => /^names\s*:/.test(l));
  if (at < 0) return undefined;
  const rest = lines[at]
    .replace(/^names\s*:/, '')
    .replace(/\s+#.*$/, '')
    .trim();
  if (rest.startsWith('[')) {
    if (!rest.endsWith(']')) throw new BoxFileError(file, 'names: [ ... ] should be on one line.');
    const inner = rest.slice(1, -1).trim();
    return inner === '' ? [] : inner.split(',').map(unquote);
  }
  if (rest !== '') throw new BoxFileError(file, `names: expected a list, got "${rest.slice(0, 40)}".`);
  const names: string[] = [];
  for (const line of lines.slice(at + 1)) {
    if (line.trim() === '' || line.trim().startsWith('#')) continue;
    if (!/^\s/.test(line)) break;
    const item = /^\s+-\s*(.*)$/.exec(line);
    const keyed = /^\s+(\d+)\s*:\s*(.*)$/.exec(line);
    if (item) names.push(unquote(item[1]));
    else if (keyed) names[Number(keyed[1])] = unquote(keyed[2]);
    else throw new BoxFileError(file, `names: cannot read "${line.trim().slice(0, 40)}".`);
  }
  if (Array.from(names).some((n) => n === undefined))
    throw new BoxFileError(file, 'names: the class indices should run 0, 1, 2, ... without gaps.');
  return names;
}
