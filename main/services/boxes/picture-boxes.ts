// The object boxes of one picture of a dataset, moved onto the picture as the app shows it (size x size,
// fitted by the resize policy), for drawing over its attention maps. Must not import electron or anything
// from main/electron, main/backend, main/server, main/cli or renderer.

import { relative, sep } from 'node:path';
import type { ResizePolicy } from '../images/decode-image.js';
import { probeImage } from '../images/probe-image.js';
import type { LabelledBox } from './box-types.js';
import { findDatasetBoxes } from './find-boxes.js';
import { boxesToInput } from './map-box.js';

/**
 * Boxes of `file` (a picture inside the dataset folder `root`) in pixels of its size x size view, with
 * their class names; an empty list when it has none or is outside `root`. Never throws for bad box files.
 */
export async function pictureBoxes(
  root: string,
  file: string,
  size: number,
  resize: ResizePolicy = 'crop',
): Promise<LabelledBox[]> {
  const relativePath = relative(root, file).split(sep).join('/');
  if (relativePath.startsWith('..') || relativePath === '') return [];
  const { width, height } = await probeImage(file);
  const found = await findDatasetBoxes(root, [{ path: file, relativePath, width, height }]);
  const list = found.boxes.get(relativePath);
  return list ? boxesToInput(list, { width, height, size, resize }) : [];
}
