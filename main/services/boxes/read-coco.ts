// Reads COCO object-detection JSON (images, annotations, categories): each annotation's bbox is
// [x, y, width, height] in picture pixels from the top-left corner, its category_id names the class, and
// its image_id points at an image whose file_name is matched against the dataset's pictures. Pure: must
// not import Node, electron or anything from main/electron, main/backend, main/server, main/cli or renderer.

import { BoxFileError, checkedBox, preview, type LabelledBox } from './box-types.js';

/** True when parsed JSON looks like a COCO file (has images and annotations lists). */
export function looksLikeCoco(data: unknown): boolean {
  return (
    !!data &&
    typeof data === 'object' &&
    Array.isArray((data as Record<string, unknown>).images) &&
    Array.isArray((data as Record<string, unknown>).annotations)
  );
}

/** Parses COCO JSON text; returns the images' file_name ('/' separators) -> boxes with class names. */
export function parseCocoJson(text: string, file: string): Map<string, LabelledBox[]> {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new BoxFileError(file, `not valid JSON (${(error as Error).message}).`);
  }
  if (!looksLikeCoco(data))
    throw new BoxFileError(file, 'not a COCO file: expected "images" and "annotations" lists.');
  const coco = data as { images: unknown[]; annotations: unknown[]; categories?: unknown };
  const names = new Map<number, string>();
  if (Array.isArray(coco.categories))
    for (const c of coco.categories) {
      const o = c as Record<string, unknown> | null;
      if (o && typeof o.id === 'number' && typeof o.name === 'string') names.set(o.id, o.name);
    }
  const fileOf = new Map<number | string, string>();
  coco.images.forEach((img, i) => {
    const o = img as Record<string, unknown> | null;
    if (!o || (typeof o.id !== 'number' && typeof o.id !== 'string') || typeof o.file_name !== 'string')
      throw new BoxFileError(file, `images[${i}]: expected an "id" and a "file_name", got ${preview(img)}.`);
    fileOf.set(o.id, o.file_name.replace(/\\/g, '/'));
  });
  const out = new Map<string, LabelledBox[]>();
  coco.annotations.forEach((a, i) => {
    const o = a as Record<string, unknown> | null;
    const where = `annotations[${i}]`;
    if (!o || !Array.isArray(o.bbox))
      throw new BoxFileError(file, `${where}: expected "bbox": [x, y, width, height], got ${preview(a)}.`);
    const name = fileOf.get(o.image_id as number);
    if (name === undefined)
      throw new BoxFileError(file, `${where}: image_id ${preview(o.image_id)} is not in "images".`);
    const [x, y, w, h] = o.bbox as unknown[];
    const box = checkedBox(
      [
        x,
        y,
        typeof x === 'number' && typeof w === 'number' ? x + w : w,
        typeof y === 'number' && typeof h === 'number' ? y + h : h,
      ],
      file,
      where,
    );
    const label = typeof o.category_id === 'number' ? names.get(o.category_id) : undefined;
    const list = out.get(name) ?? [];
    list.push(label !== undefined ? { box, label } : { box });
    out.set(name, list);
  });
  return out;
}
