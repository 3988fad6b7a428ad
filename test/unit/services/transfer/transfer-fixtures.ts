// Small image folders and a small spec for the transfer tests: noisy PNGs (so every conv sees texture),
// the same decoding and normalisation the cache uses, and backbone weights with random BatchNorm.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createRandom } from '../../../../models/core/random.js';
import type { ModelSpec } from '../../../../models/core/spec.js';
import type { BatchItem } from '../../../../main/services/datasets/batch-stream.js';
import { decodeImageRgb8 } from '../../../../main/services/images/decode-image.js';
import { normaliseRgb8 } from '../../../../main/services/images/normalise.js';
import { encodePng } from '../../../fixtures/make-image-bytes.js';

export const TRANSFER_SPEC: ModelSpec = {
  inputSize: 32,
  width: 1 / 16,
  numClasses: 3,
  attention: true,
  compatibility: 'pc',
  normalisation: 'softmax',
};

/** `count` noisy 40x40 PNGs over `classes` classes, in the given folder. */
export async function writeNoiseImages(
  dir: string,
  count: number,
  classes = 3,
  seed = 1,
): Promise<BatchItem[]> {
  await mkdir(dir, { recursive: true });
  const r = createRandom(seed);
  const items: BatchItem[] = [];
  for (let i = 0; i < count; i++) {
    const samples = Uint8Array.from({ length: 40 * 40 * 3 }, () => Math.floor(r.next() * 256));
    const path = join(dir, `${String(i).padStart(3, '0')}.png`);
    await writeFile(path, encodePng(40, 40, 2, samples));
    items.push({ path, classIndex: i % classes, relativePath: `${i}.png` });
  }
  return items;
}

/** The normalised NHWC batch the cache's view 0 sees for these items. */
export async function plainBatch(items: readonly BatchItem[], size: number): Promise<Float32Array> {
  const per = size * size * 3;
  const x = new Float32Array(items.length * per);
  for (let k = 0; k < items.length; k++)
    normaliseRgb8((await decodeImageRgb8(items[k].path, { size })).data, {}, x, k * per);
  return x;
}
