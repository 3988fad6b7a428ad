// How long importing a VGG16_bn backbone takes in each form issue 16 reads, and the peak memory of it,
// for full-size files (torchvision's vgg16_bn with its 4096-wide classifier: about 528 MiB as .pth).
// Each import runs in a child process of its own, so its peak RSS is its own; the child also reports its
// RSS just before the import (Node, TensorFlow-free imports loaded), so the import's own share shows.
//
//   node --import tsx bench/weight-import.ts [--dir /tmp/attnvgg-weight-import] [--repeat 3]
//
// The files are made once in --dir with Debian's torch (test/fixtures/torchvision_vgg16bn_state_dict.py
// --full) plus a Model-Zoo-structured ONNX of the same features and a random 4096-wide classifier in a
// .tar.gz (bench/weight-import-zoo.ts), as large as the Zoo's.
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { loadavg, cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadBackboneWeights } from '../main/services/backbone/load-backbone.js';
import type { ModelSpec } from '../models/core/spec.js';
import { lastJson, runCaptured } from './run-child.js';

const FILES = ['zip.pth', 'legacy.pth', 'model.safetensors', 'vgg16-bn-7.tar.gz'];
const spec: ModelSpec = {
  inputSize: 224,
  width: 1,
  numClasses: 10,
  attention: true,
  compatibility: 'pc',
  normalisation: 'softmax',
};

async function child(file: string): Promise<void> {
  const before = process.memoryUsage().rss;
  const start = performance.now();
  const weights = await loadBackboneWeights(file, spec);
  const seconds = (performance.now() - start) / 1000;
  const usage = process.resourceUsage();
  console.log(
    JSON.stringify({
      file,
      bytes: statSync(file).size,
      tensors: weights.size,
      seconds,
      rssBeforeMiB: before / 2 ** 20,
      peakRssMiB: usage.maxRSS / 1024,
    }),
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { dir: { type: 'string' }, repeat: { type: 'string' }, one: { type: 'string' } },
  });
  if (values.one) return child(values.one);
  const dir = resolve(values.dir ?? '/tmp/attnvgg-weight-import');
  if (!existsSync(join(dir, 'zip.pth'))) {
    mkdirSync(dir, { recursive: true });
    const made = await runCaptured('/usr/bin/python3', [
      'test/fixtures/torchvision_vgg16bn_state_dict.py',
      '224',
      dir,
      '--full',
    ]);
    if (made.code !== 0) throw new Error('making the full-size files failed');
  }
  if (!existsSync(join(dir, 'vgg16-bn-7.tar.gz'))) {
    // In a child of its own: Linux keeps a process's peak RSS across exec, so a parent that once held the
    // 553 MB safetensors would pass that peak on to every measurement child it starts.
    const made = await runCaptured(process.execPath, ['--import', 'tsx', 'bench/weight-import-zoo.ts', dir]);
    if (made.code !== 0) throw new Error('making the .tar.gz failed');
  }
  const repeat = Number(values.repeat ?? 3);
  console.log(
    `# ${new Date().toISOString()} ${cpus().length}x ${cpus()[0]?.model}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  for (const name of FILES)
    for (let r = 0; r < repeat; r++) {
      const got = await runCaptured(process.execPath, [
        '--import',
        'tsx',
        'bench/weight-import.ts',
        '--one',
        join(dir, name),
      ]);
      const result = lastJson(got.stdout);
      if (!result) throw new Error(`${name}: no result (exit ${got.code})`);
      console.log(JSON.stringify({ ...result, load1: loadavg()[0] }));
    }
}

await main();
