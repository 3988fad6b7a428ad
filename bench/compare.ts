// "Does attention help?" on the two benchmark datasets, through the comparison service (the same code as
// `attnvgg compare`), with each dataset's own recipe:
//   --dataset shapes   the sample dataset (`attnvgg data shapes`, 400/50/50 per class, 64 px, boxes),
//                      trained with the demo's settings (main/cli/commands/demo.ts DEMO_SETTINGS)
//   --dataset fmnist   the Fashion-MNIST recipe of BENCHMARKS.md: the first 600 training images of each
//                      class, all 10,000 test images, S=64 w=0.25, SGD one-cycle 0.05, weight decay 5e-4,
//                      batch 32, 5 epochs, horizontal flips, mean 0.286 / std 0.353; no validation split
//                      (--val-fraction 0: the recipe trains on all 6,000), evaluation on the test images.
// Writes the dataset (once) and the comparison under --dir, prints the verdict as one JSON line.
// Run: node --import tsx bench/compare.ts --dataset shapes|fmnist [--dir bench/out/compare] [--epochs N]
import { access } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEMO_SETTINGS } from '../main/cli/commands/demo.js';
import { compareAttention, type CompareEvent, type CompareOptions } from '../main/services/compare/index.js';
import { writeFashionMnist } from '../main/services/datasets/fashion-mnist.js';
import { generateShapesDataset } from '../main/services/sample/index.js';

const { values } = parseArgs({
  options: {
    dataset: { type: 'string', default: 'shapes' },
    dir: { type: 'string', default: 'bench/out/compare' },
    epochs: { type: 'string' },
    'time-limit': { type: 'string' },
    tag: { type: 'string', default: '' },
  },
});
const dir = resolve(values.dir as string);
const exists = (p: string): Promise<boolean> =>
  access(p).then(
    () => true,
    () => false,
  );

async function prepare(kind: string): Promise<{ data: string; options: CompareOptions }> {
  if (kind === 'shapes') {
    const data = join(dir, 'shapes-data');
    if (!(await exists(join(data, 'boxes.json')))) await generateShapesDataset(data, { seed: 0 });
    return {
      data,
      options: {
        training: {
          epochs: DEMO_SETTINGS.epochs,
          width: DEMO_SETTINGS.width,
          inputSize: DEMO_SETTINGS.inputSize,
          batchSize: DEMO_SETTINGS.batchSize,
          optimizer: DEMO_SETTINGS.optimizer,
          lr: DEMO_SETTINGS.lr,
          augment: { ...DEMO_SETTINGS.augment },
        },
      },
    };
  }
  if (kind === 'fmnist') {
    const data = join(dir, 'fmnist-data');
    if (!(await exists(join(data, 'test', 'Trouser')))) {
      await writeFashionMnist(join(data, 'train'), { split: 'train', perClass: 600 });
      await writeFashionMnist(join(data, 'test'), { split: 'test' });
    }
    return {
      data,
      options: {
        training: {
          epochs: 5,
          inputSize: 64,
          width: 0.25,
          batchSize: 32,
          optimizer: 'sgd',
          lr: 0.05,
          momentum: 0.9,
          weightDecay: 5e-4,
          schedule: 'onecycle',
          augment: { flip: true },
          mean: [0.286, 0.286, 0.286],
          std: [0.353, 0.353, 0.353],
          valFraction: 0,
        },
        inferenceImages: 2048,
      },
    };
  }
  throw new Error(`Unknown --dataset "${kind}". Should be one of: shapes, fmnist`);
}

const kind = values.dataset as string;
const { data, options } = await prepare(kind);
if (values.epochs) options.training = { ...options.training, epochs: Number(values.epochs) };
if (values['time-limit']) options.timeLimitSeconds = 60 * Number(values['time-limit']);
const outDir = join(dir, `${kind}${values.tag ? `-${values.tag}` : ''}-${Date.now()}`);
let last = 0;
const log = (event: CompareEvent): void => {
  if (event.type === 'training') {
    const e = event.event;
    if (e.type === 'epoch' || e.type === 'started' || e.type === 'evaluated' || e.type === 'finished')
      console.log(JSON.stringify({ model: event.model, ...e, time: new Date().toISOString() }));
    else if (e.type === 'step' && Date.now() - last > 60_000) {
      last = Date.now();
      console.log(JSON.stringify({ model: event.model, ...e }));
    }
  } else console.log(JSON.stringify({ ...event, time: new Date().toISOString() }));
};
const result = await compareAttention(data, options, { outDir, onEvent: log });
const r = result.report;
if (r)
  console.log(
    JSON.stringify({
      bench: 'compare',
      dataset: kind,
      outDir,
      attention: {
        accuracy: r.models.attention.evaluation.accuracy,
        interval: r.models.attention.evaluation.accuracyInterval,
        trainSeconds: r.models.attention.training.trainSeconds,
        trainImgS: r.models.attention.training.imagesPerSecond,
        inferImgS: r.models.attention.inference.imagesPerSecond,
        backend: r.models.attention.training.backend,
      },
      plain: {
        accuracy: r.models.plain.evaluation.accuracy,
        interval: r.models.plain.evaluation.accuracyInterval,
        trainSeconds: r.models.plain.training.trainSeconds,
        trainImgS: r.models.plain.training.imagesPerSecond,
        inferImgS: r.models.plain.inference.imagesPerSecond,
        backend: r.models.plain.training.backend,
      },
      paired: r.paired,
      verdict: r.verdict.text,
      pointing: r.pointing,
    }),
  );
