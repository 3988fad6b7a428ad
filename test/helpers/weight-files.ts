// Makes torchvision vgg16_bn weights (random, with random BatchNorm statistics) in every form issue 16
// imports, in a folder: zip.pth, legacy.pth, model.safetensors (test/fixtures/torchvision_vgg16bn_state_dict.py,
// Debian's torch) and vgg16-bn-7.tar.gz, a Model-Zoo-structured ONNX file (test/fixtures/model-zoo-vgg16bn.ts)
// of the same weights in a tar.gz laid out as the Zoo's (vgg16-bn/vgg16-bn.onnx beside test data).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { create } from 'tar';
import { decodeSafetensors } from '../../models/core/safetensors.js';
import { modelZooVgg16BnBytes } from '../fixtures/model-zoo-vgg16bn.js';
import { runPython } from './python.js';

export const WEIGHT_FILE_FORMS = ['zip.pth', 'legacy.pth', 'model.safetensors', 'vgg16-bn-7.tar.gz'] as const;

/** Writes the four files and io.safetensors (x, conv13 at `size` px) into `dir`. */
export async function makeWeightFiles(dir: string, size: number): Promise<void> {
  runPython(['test/fixtures/torchvision_vgg16bn_state_dict.py', String(size), dir], 300_000);
  const tensors = decodeSafetensors(readFileSync(join(dir, 'model.safetensors'))).tensors;
  const features = new Map([...tensors].filter(([n]) => n.startsWith('features.')));
  const zoo = join(dir, 'zoo', 'vgg16-bn');
  mkdirSync(join(zoo, 'test_data_set_0'), { recursive: true });
  writeFileSync(join(zoo, 'vgg16-bn.onnx'), modelZooVgg16BnBytes({ width: 1, inputSize: size }, features));
  writeFileSync(join(zoo, 'test_data_set_0', 'input_0.pb'), Buffer.alloc(4096, 7));
  await create({ gzip: true, file: join(dir, 'vgg16-bn-7.tar.gz'), cwd: join(dir, 'zoo') }, ['vgg16-bn']);
}
