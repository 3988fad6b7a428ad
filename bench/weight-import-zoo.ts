// Makes bench/weight-import.ts's .tar.gz: the features of the full-size model.safetensors as a
// Model-Zoo-structured ONNX file (test/fixtures/model-zoo-vgg16bn.ts) in a tar.gz laid out as the Zoo's.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { create } from 'tar';
import { decodeSafetensors } from '../models/core/safetensors.js';
import { modelZooVgg16BnBytes } from '../test/fixtures/model-zoo-vgg16bn.js';

export async function makeZooArchive(dir: string): Promise<void> {
  const tensors = decodeSafetensors(readFileSync(join(dir, 'model.safetensors'))).tensors;
  const features = new Map([...tensors].filter(([n]) => n.startsWith('features.')));
  const zoo = join(dir, 'zoo', 'vgg16-bn');
  mkdirSync(zoo, { recursive: true });
  writeFileSync(join(zoo, 'vgg16-bn.onnx'), modelZooVgg16BnBytes({ width: 1, inputSize: 224 }, features));
  await create({ gzip: true, file: join(dir, 'vgg16-bn-7.tar.gz'), cwd: join(dir, 'zoo') }, ['vgg16-bn']);
}

if (process.argv[2]) await makeZooArchive(process.argv[2]);
