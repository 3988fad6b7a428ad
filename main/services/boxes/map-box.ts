// Moves boxes from the picture as displayed (W x H pixels, EXIF orientation applied) into the size x size
// network input that the app's resize policy makes of it (images/decode-image.ts), where the attention
// maps live: a map cell's centre is then compared with the box in the same pixels.
//   - 'crop': scaled so the shorter side is `size` (the longer becomes round(L * size / shorter)), then
//     the centre size x size cut out (from floor((resized - size + 1) / 2)), as sharp's fit 'cover';
//   - 'stretch': each axis scaled to `size` on its own;
//   - 'pad': scaled so the longer side is `size`, placed in the middle (offset floor((size - resized) / 2)).
// A box is clipped to the input; a box cropped away entirely (outside the centre square) is dropped.
// Pure: must not import Node, electron or anything from main/electron, main/backend, main/server, main/cli or renderer.

import type { ResizePolicy } from '../images/decode-image.js';
import type { LabelledBox, ObjectBox } from './box-types.js';

export interface PictureGeometry {
  /** The picture as displayed (after EXIF orientation). */
  width: number;
  height: number;
  /** The network input side S. */
  size: number;
  resize?: ResizePolicy;
}

/** The affine map x' = x * sx + ox, y' = y * sy + oy from picture to input pixels. */
export function pictureToInput(g: PictureGeometry): { sx: number; sy: number; ox: number; oy: number } {
  const { width: w, height: h, size } = g;
  if (!(w > 0 && h > 0 && size > 0))
    throw new RangeError(`Cannot map boxes of a ${w} x ${h} picture to ${size}.`);
  const policy = g.resize ?? 'crop';
  if (policy === 'stretch') return { sx: size / w, sy: size / h, ox: 0, oy: 0 };
  const scaleBy = policy === 'crop' ? Math.min(w, h) : Math.max(w, h);
  // The resized picture, as sharp rounds it; the fitted side is exactly `size`.
  const rw = w === scaleBy ? size : Math.max(1, Math.round((w * size) / scaleBy));
  const rh = h === scaleBy ? size : Math.max(1, Math.round((h * size) / scaleBy));
  const sx = rw / w;
  const sy = rh / h;
  // sharp centres a crop at floor((resized - size + 1) / 2) and an embedding at floor((size - resized) / 2).
  const cut = (r: number): number => (r > size ? -Math.floor((r - size + 1) / 2) : 0);
  if (policy === 'crop') return { sx, sy, ox: cut(rw), oy: cut(rh) };
  return { sx, sy, ox: Math.floor((size - rw) / 2), oy: Math.floor((size - rh) / 2) };
}

/** One box in input pixels, clipped to [0, size]; undefined when nothing of it is left. */
export function boxToInput(box: ObjectBox, g: PictureGeometry): ObjectBox | undefined {
  const { sx, sy, ox, oy } = pictureToInput(g);
  const clip = (v: number): number => Math.min(g.size, Math.max(0, v));
  const x0 = clip(box[0] * sx + ox);
  const y0 = clip(box[1] * sy + oy);
  const x1 = clip(box[2] * sx + ox);
  const y1 = clip(box[3] * sy + oy);
  if (x1 <= x0 || y1 <= y0) return undefined;
  return [x0, y0, x1, y1];
}

/** Every box that is left in the input, labels kept. */
export function boxesToInput(list: readonly LabelledBox[], g: PictureGeometry): LabelledBox[] {
  return list.flatMap((b) => {
    const box = boxToInput(b.box, g);
    return box ? [{ ...b, box }] : [];
  });
}
