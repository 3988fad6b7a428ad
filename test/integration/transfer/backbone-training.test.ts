// A run from a pretrained backbone with the quick preset: the whole backbone frozen, its features cached,
// only the heads trained. The backbone is a random width-1.0 VGG16_bn written as an ONNX file here (no
// Python), at S=32 so the test stays small.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRandom } from '../../../models/core/random.js';
import { decodeSafetensors } from '../../../models/core/safetensors.js';
import { convLayers, validateSpec } from '../../../models/core/spec.js';
import { initWeights, type Weights } from '../../../models/core/weights.js';
import { exportBackboneOnnx } from '../../../models/onnx/export.js';
import { loadBackboneWeights } from '../../../main/services/backbone/load-backbone.js';
import { deriveSeed } from '../../../main/services/datasets/derive-seed.js';
import { readRunRecord, runPath } from '../../../main/services/training/run-folder.js';
import type { TrainingConfig } from '../../../main/services/training/training-config.js';
import type { TrainingEvent } from '../../../main/services/training/training-events.js';
import {
  resumeTraining,
  startTraining,
  TrainingControl,
} from '../../../main/services/training/training-run.js';
import { testWeights } from '../../helpers/weights.js';
import { makeTinyShapes } from '../training/tiny-run.js';

const root = await mkdtemp(join(tmpdir(), 'attnvgg-backbone-run-'));
after(() => rm(root, { recursive: true, force: true }));

const spec = validateSpec({
  inputSize: 32,
  width: 1,
  numClasses: 2,
  attention: true,
  compatibility: 'pc',
  normalisation: 'softmax',
});

async function lastWeights(runDir: string): Promise<Weights> {
  return decodeSafetensors(await readFile(runPath(runDir, 'lastCheckpoint'))).tensors;
}

function maxDifference(a: Weights, b: Weights, names: Iterable<string>): number {
  let worst = 0;
  for (const name of names) {
    const x = a.get(name);
    const y = b.get(name);
    assert.ok(x && y, `${name} is present in both`);
    assert.deepEqual(x.shape, y.shape, name);
    for (let i = 0; i < x.data.length; i++) worst = Math.max(worst, Math.abs(x.data[i] - y.data[i]));
  }
  return worst;
}

test('quick preset with a backbone: cached features, frozen backbone, trained heads, exact resume', async () => {
  const dataset = await makeTinyShapes(join(root, 'data'));
  const backboneFile = join(root, 'vgg16_bn.onnx');
  const fileBytes = exportBackboneOnnx(spec, testWeights(spec, 21));
  await writeFile(backboneFile, fileBytes);
  const imported = await loadBackboneWeights(backboneFile, spec);
  const settings: Partial<TrainingConfig> & { dataset: string } = {
    dataset,
    backbone: backboneFile,
    inputSize: 32,
    epochs: 2,
    batchSize: 8, // 24 training images: 3 steps an epoch
    seed: 5,
  };

  // Uninterrupted.
  const events: TrainingEvent[] = [];
  const full = await startTraining(settings, {
    runDir: join(root, 'full'),
    preset: 'quick',
    onnxThreads: 1,
    onEvent: (e) => events.push(e),
  });
  assert.equal(full.status, 'completed', full.record.message);
  assert.equal(full.record.config.freezeBlocks, 5);
  assert.equal(full.record.config.optimizer, 'adam');
  assert.deepEqual(full.record.backbone, {
    file: backboneFile,
    sha256: createHash('sha256').update(fileBytes).digest('hex'),
  });
  const caching = events.filter((e) => e.type === 'caching');
  assert.ok(
    caching.some((e) => e.split === 'train' && e.done === e.total && e.total === 24),
    'the training features were cached, with progress',
  );
  assert.ok(caching.some((e) => e.split === 'val' && e.done === e.total && e.total === 8));
  const firstStep = events.findIndex((e) => e.type === 'step');
  assert.ok(firstStep > events.findIndex((e) => e.type === 'caching'), 'caching comes before training');
  assert.equal(events.filter((e) => e.type === 'epoch').length, 2);
  assert.ok(
    events.some((e) => e.type === 'evaluated'),
    'the final evaluation ran',
  );

  const trained = await lastWeights(join(root, 'full'));
  const features = [...imported.keys()].filter((n) => n.startsWith('features.'));
  assert.equal(features.length, 78);
  assert.equal(maxDifference(trained, imported, features), 0, 'the frozen backbone is the imported one');
  const initial = initWeights(full.record.spec, createRandom(deriveSeed(5, 'init')));
  const headNames = ['head.weight', 'head.bias', 'u.0.weight', 'u.1.weight', 'u.2.weight'];
  for (const name of headNames)
    assert.ok(maxDifference(trained, initial, [name]) > 1e-4, `${name} was trained`);
  const evaluation = JSON.parse(await readFile(runPath(join(root, 'full'), 'evaluation'), 'utf8'));
  assert.equal(evaluation.metrics.total, 8, 'on the test split');

  // Paused after the first step of the second epoch, then resumed: the cache is rebuilt identically and
  // the steps already trained are skipped, so the result is the uninterrupted run's.
  const control = new TrainingControl();
  const pausedDir = join(root, 'paused');
  const paused = await startTraining(settings, {
    runDir: pausedDir,
    preset: 'quick',
    onnxThreads: 1,
    control,
    onEvent: (e) => {
      if (e.type === 'step' && e.epoch === 1 && e.step === 1) control.request('pause');
    },
  });
  assert.equal(paused.status, 'paused');
  const resumedEvents: TrainingEvent[] = [];
  const resumed = await resumeTraining({
    runDir: pausedDir,
    onnxThreads: 1,
    onEvent: (e) => resumedEvents.push(e),
  });
  assert.equal(resumed.status, 'completed', resumed.record.message);
  const started = resumedEvents.find((e) => e.type === 'started');
  assert.deepEqual(started?.type === 'started' && started.resumedAt, { epoch: 1, stepInEpoch: 1 });
  assert.equal(resumedEvents.filter((e) => e.type === 'step').length, 2, 'only the remaining steps ran');
  const again = await lastWeights(pausedDir);
  assert.equal(maxDifference(again, trained, trained.keys()), 0, 'resume gives the same weights');
  assert.deepEqual((await readRunRecord(pausedDir)).backbone, full.record.backbone);

  // Paused while the features are being computed: a checkpoint of the starting weights, and a resume
  // that computes them again and trains the whole run.
  const early = new TrainingControl();
  const earlyDir = join(root, 'paused-caching');
  const stoppedWhileCaching = await startTraining(settings, {
    runDir: earlyDir,
    preset: 'quick',
    onnxThreads: 1,
    control: early,
    onEvent: (e) => {
      if (e.type === 'caching') early.request('pause');
      assert.notEqual(e.type, 'step', 'no step runs after a pause while caching');
    },
  });
  assert.equal(stoppedWhileCaching.status, 'paused');
  const fromCaching = await resumeTraining({ runDir: earlyDir, onnxThreads: 1 });
  assert.equal(fromCaching.status, 'completed', fromCaching.record.message);
  assert.equal(maxDifference(await lastWeights(earlyDir), trained, trained.keys()), 0);
});

test('balanced preset with a backbone: blocks 1-4 stay the imported ones, block 5 fine-tunes', async () => {
  const dataset = await makeTinyShapes(join(root, 'data-balanced'));
  const backboneFile = join(root, 'vgg16_bn-balanced.onnx');
  await writeFile(backboneFile, exportBackboneOnnx(spec, testWeights(spec, 22)));
  const imported = await loadBackboneWeights(backboneFile, spec);
  const runDir = join(root, 'balanced');
  const result = await startTraining(
    { dataset, backbone: backboneFile, inputSize: 32, epochs: 1, batchSize: 8, seed: 5 },
    { runDir, preset: 'balanced', engine: 'onnxruntime', onnxThreads: 1 },
  );
  assert.equal(result.status, 'completed', result.record.message);
  assert.equal(result.record.config.freezeBlocks, 4);
  assert.equal(result.record.engine, 'onnxruntime');
  const trained = await lastWeights(runDir);
  const names = (featuresIndex: number): string[] =>
    [`features.${featuresIndex}.weight`, `features.${featuresIndex}.bias`].concat(
      ['weight', 'bias', 'running_mean', 'running_var'].map((k) => `features.${featuresIndex + 1}.${k}`),
    );
  for (const c of convLayers(spec)) {
    const difference = maxDifference(trained, imported, names(c.featuresIndex));
    if (c.index <= 10) assert.equal(difference, 0, `conv ${c.index} (frozen) is the imported one`);
    else assert.ok(difference > 0, `conv ${c.index} (block 5) was fine-tuned`);
  }
});
