// The tiny run the training-loop tests share: two classes of 32-pixel shapes (12 training, 4 validation
// and 4 test images) and settings that train on them in seconds. Test code only.
import { generateShapesDataset } from '../../../main/services/sample/index.js';
import type { TrainingConfig } from '../../../main/services/training/training-config.js';

export const TINY_SETTINGS: Partial<TrainingConfig> = {
  inputSize: 32,
  width: 0.0625,
  epochs: 2,
  batchSize: 8, // 24 images: 3 steps an epoch
  optimizer: 'sgd',
  lr: 0.02,
  seed: 5,
  augment: { flip: true, translate: 0.1 },
};

/** Writes the tiny dataset into `folder` and returns it. */
export async function makeTinyShapes(folder: string): Promise<string> {
  await generateShapesDataset(folder, {
    classes: 2,
    size: 32,
    counts: { train: 12, val: 4, test: 4 },
    seed: 3,
  });
  return folder;
}
