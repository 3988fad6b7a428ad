// The transfer recipe of BENCHMARKS.md (issue 6): a frozen VGG16_bn backbone (random weights, PyTorch's
// default initialisation: no ImageNet download here), its outputs (l1, l2, l3, pool5) computed once by
// onnxruntime-node and cached in half precision, then the attention estimators, g and the head trained in
// TensorFlow.js for 5 epochs with Adam (lr 1e-3), batch 32, and validated. Data: the first 100 training
// images of each Fashion-MNIST class (1,000 PNG files in class folders) and the first 1,000 test images,
// decoded and up-scaled bilinearly to S, grey replicated to RGB, normalised with mean 0.286 / std 0.353
// (the peer's pre-processing). Wall time from the folders to a validated model, split into feature
// caching and head training, against `attnvgg_torch.py transfer --size S --per-class 100` run right
// after, in the same session, once per round. The folders are written once, untimed, under --dir.
//
// Run: node --import tsx bench/transfer.ts --size 128|224 [--rounds 1] [--dir $TMPDIR/attnvgg-bench-transfer]
//        [--memory-gib 8] [--views 1] [--no-peer] [--peer PATH]
import { spawnSync } from 'node:child_process';
import { access, readdir, rm } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createRandom } from '../models/core/random.js';
import type { ModelSpec } from '../models/core/spec.js';
import { initWeights } from '../models/core/weights.js';
import { selectBackend } from '../models/tfjs/backend.js';
import type { BatchItem } from '../main/services/datasets/batch-stream.js';
import { FASHION_MNIST_CLASSES, writeFashionMnist } from '../main/services/datasets/fashion-mnist.js';
import { buildFeatureCache, type FeatureCacheOptions } from '../main/services/transfer/feature-cache.js';
import {
  evaluateHead,
  HEAD_RECIPE,
  modelWithBackbone,
  trainHeads,
} from '../main/services/transfer/head-trainer.js';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '128' },
    rounds: { type: 'string', default: '1' },
    // Outside the repository: the 11,000 PNGs must never be committed.
    dir: { type: 'string', default: join(tmpdir(), 'attnvgg-bench-transfer') },
    'memory-gib': { type: 'string', default: '8' },
    views: { type: 'string', default: '1' },
    peer: { type: 'string', default: process.env.ATTNVGG_PEER ?? '../shared/peers/attnvgg_torch.py' },
    'no-peer': { type: 'boolean', default: false },
  },
});
const size = Number(values.size);
const rounds = Number(values.rounds);
const dir = resolve(values.dir as string);
const emit = (o: Record<string, unknown>) => console.log(JSON.stringify(o));
const load = () => loadavg().map((l) => Math.round(l * 100) / 100);
const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

/** Class folders -> items, in class then file order; `keep` filters by file name. */
async function listFolder(root: string, keep: (file: string) => boolean = () => true): Promise<BatchItem[]> {
  const items: BatchItem[] = [];
  for (const [classIndex, name] of FASHION_MNIST_CLASSES.entries()) {
    const files = (await readdir(join(root, name))).filter((f) => f.endsWith('.png') && keep(f)).sort();
    for (const f of files)
      items.push({ path: join(root, name, f), classIndex, relativePath: `${name}/${f}` });
  }
  return items;
}

async function prepare(): Promise<{ train: string; test: string }> {
  const train = join(dir, 'train-100');
  const test = join(dir, 'test');
  if (!(await exists(join(train, FASHION_MNIST_CLASSES[9]))))
    await writeFashionMnist(train, { split: 'train', perClass: 100 });
  if (!(await exists(join(test, FASHION_MNIST_CLASSES[9])))) await writeFashionMnist(test, { split: 'test' });
  return { train, test };
}

async function ours(folders: { train: string; test: string }, round: number) {
  const loadBefore = load();
  const t0 = performance.now();
  const train = await listFolder(folders.train);
  // The first 1,000 test images: file names are their positions in the idx file.
  const val = await listFolder(folders.test, (f) => Number(f.slice(0, -4)) < 1000);
  const spec: ModelSpec = {
    inputSize: size,
    width: 1,
    numClasses: 10,
    attention: true,
    compatibility: 'pc',
    normalisation: 'softmax',
  };
  const weights = initWeights(spec, createRandom(0));
  const backbone = new Map([...weights].filter(([k]) => k.startsWith('features.')));
  const grey = [0.286, 0.286, 0.286] as const;
  const options: FeatureCacheOptions = {
    spec,
    backbone,
    mean: grey,
    std: [0.353, 0.353, 0.353],
    decode: { kernel: 'linear' },
    views: Number(values.views),
    memoryLimitBytes: Number(values['memory-gib']) * 1024 ** 3,
    spillDir: join(dir, 'spill'),
    threads: availableParallelism(),
    onProgress: ({ done, total }) => {
      if (done % 200 < 8 || done === total) console.error(`caching ${done}/${total} (load ${load()[0]})`);
    },
  };
  const trainCache = await buildFeatureCache(train, options);
  const valCache = await buildFeatureCache(val, { ...options, views: 1 });
  const tCache = performance.now();
  const model = modelWithBackbone(spec, weights, 0);
  const epochs = await trainHeads(model, trainCache, undefined, {
    epochs: HEAD_RECIPE.epochs,
    batchSize: HEAD_RECIPE.batchSize,
    lr: HEAD_RECIPE.lr,
    onEpoch: (e) =>
      console.error(`epoch ${e.epoch}: loss ${e.trainLoss.toFixed(4)}, ${(e.trainMs / 1000).toFixed(1)} s`),
  });
  const tTrain = performance.now();
  const validation = await evaluateHead(model, valCache);
  const tEnd = performance.now();
  const stats = [trainCache.stats(), valCache.stats()];
  model.dispose();
  await Promise.all([trainCache.dispose(), valCache.dispose()]);
  return {
    who: 'ours',
    round,
    size,
    images: train.length,
    validation_images: val.length,
    views: Number(values.views),
    cache_seconds: +((tCache - t0) / 1000).toFixed(1),
    head_train_seconds: +((tTrain - tCache) / 1000).toFixed(1),
    validate_seconds: +((tEnd - tTrain) / 1000).toFixed(1),
    total_seconds: +((tEnd - t0) / 1000).toFixed(1),
    train_loss: epochs.map((e) => +e.trainLoss.toFixed(4)),
    val_acc: +validation.accuracy.toFixed(4),
    cache_memory_mib: Math.round(stats.reduce((n, s) => n + s.memoryBytes, 0) / 2 ** 20),
    cache_disk_mib: Math.round(stats.reduce((n, s) => n + s.diskBytes, 0) / 2 ** 20),
    peak_rss_mib: Math.round(process.resourceUsage().maxRSS / 1024),
    load_before: loadBefore,
    load_after: load(),
  };
}

function peer(round: number) {
  const loadBefore = load();
  const t0 = performance.now();
  const r = spawnSync(
    '/usr/bin/python3',
    [values.peer as string, 'transfer', '--size', String(size), '--per-class', '100'],
    { encoding: 'utf8', maxBuffer: 1 << 24 },
  );
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0)
    // A signal (SIGKILL from the kernel's OOM killer, say) leaves stderr empty: report it.
    return { who: 'peer', round, error: r.stderr.slice(-2000), status: r.status, signal: r.signal };
  const line = r.stdout.trim().split('\n').at(-1) ?? '{}';
  return {
    who: 'peer',
    round,
    ...(JSON.parse(line) as Record<string, unknown>),
    process_wall_seconds: +wall.toFixed(1),
    load_before: loadBefore,
    load_after: load(),
  };
}

async function main() {
  const backend = await selectBackend();
  emit({
    machine: `${availableParallelism()} x ${cpus()[0]?.model ?? '?'}`,
    memory_gib: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    tfjs_backend: backend.chosen,
    tfjs_threads: backend.threads,
    date: new Date().toISOString(),
  });
  const folders = await prepare();
  await rm(join(dir, 'spill'), { recursive: true, force: true });
  for (let round = 1; round <= rounds; round++) {
    emit(await ours(folders, round));
    if (!values['no-peer']) emit(peer(round));
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
