// What every box reader returns: boxes in the picture's pixels as displayed (EXIF orientation applied),
// each with the class name it is labelled with when the file names one, and the one error type all the
// readers throw for a file they cannot use. Pure: must not import Node, electron or anything from
// main/electron, main/backend, main/server, main/cli or renderer.

import type { ObjectBox } from '../sample/pointing-game.js';

export type { ObjectBox };

/** One object: [x0, y0, x1, y1] in picture pixels (x1, y1 exclusive edges), and its class when known. */
export interface LabelledBox {
  box: ObjectBox;
  label?: string;
}

/** Box formats the app reads. */
export type BoxFormat = 'boxes-json' | 'coco' | 'voc' | 'yolo';

/** A box file that cannot be used: says which file and what is wrong with it. */
export class BoxFileError extends Error {
  override name = 'BoxFileError';
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
  }
}

/** Largest box file read (a dataset's COCO JSON can be large, but not this large). */
export const MAX_BOX_FILE_BYTES = 256 * 1024 * 1024;

/** Checks four finite numbers with x0 <= x1 and y0 <= y1; returns them as a box. */
export function checkedBox(values: readonly unknown[], file: string, where: string): ObjectBox {
  if (values.length !== 4 || !values.every((v) => typeof v === 'number' && Number.isFinite(v)))
    throw new BoxFileError(file, `${where}: expected four numbers [x0, y0, x1, y1], got ${preview(values)}.`);
  const [x0, y0, x1, y1] = values as number[];
  if (x1 < x0 || y1 < y0)
    throw new BoxFileError(
      file,
      `${where}: the box [${x0}, ${y0}, ${x1}, ${y1}] ends before it starts (x1 < x0 or y1 < y0).`,
    );
  return [x0, y0, x1, y1];
}

/** A short printable form of a value for error messages. */
export function preview(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
