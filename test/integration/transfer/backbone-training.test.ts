// Runs from a pretrained backbone on cached features: the quick preset (the whole backbone frozen, its
// features cached, only the heads trained) and the balanced preset (blocks 1-4 frozen, l1 and l2 cached,
// block 5 and the heads trained). Pauses while caching and mid-epoch resume to the same weights. The
// backbone is a random width-1.0 VGG16_bn written as an ONNX file here (no Python), at S=32 so the test
// stays small.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRandom } from '../../../models/core/random.js';
import { decodeSafetensors } from '../../../models/core/safetensors.js';
import { convLayers } from '../../../models/core/spec.js';
import { initWeights, type Weights } from '../../../models/core/weights.js';
import { AttentionVgg } from '../../../models/tfjs/model.js';
import { crossEntropy } from '../../../models/train/step.js';
import * as tf from '@tensorflow/tfjs-core';
import { classifyFolder } from '../../../main/services/classify/classify-folder.js';
import { exportRun } from '../../../main/services/export/export-run.js';
import { decodeImageRgb8 } from '../../../main/services/images/decode-image.js';
import { normaliseRgb8 } from '../../../main/services/images/normalise.js';
import type { EvaluationReport } from '../../../main/services/training/evaluate-model.js';
import { loadRunModel } from '../../../main/services/training/load-run-model.js';
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
import { backboneFileBytes, backboneTestSpec } from '../../helpers/backbone-file.js';
import { makeTinyShapes } from '../training/tiny-run.js';
import { resultsOf } from '../../helpers/classify-results.js';

const root = await mkdtemp(join(tmpdir(), 'attnvgg-backbone-run-'));
after(() => rm(root, { recursive: true, force: true }));

const spec = backboneTestSpec();

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

/**
 * A tiny shapes dataset and a backbone file seeded by `seed` (names end with `suffix`), the imported
 * weights, and the run settings both tests use: S=32, 2 epochs, 24 training images in 3 steps an epoch.
 */
async function backboneRunSetup(suffix: string, seed: number) {
  const dataset = await makeTinyShapes(join(root, `data${suffix}`));
  const backboneFile = join(root, `vgg16_bn${suffix}.onnx`);
  const fileBytes = backboneFileBytes(seed);
  await writeFile(backboneFile, fileBytes);
  const imported = await loadBackboneWeights(backboneFile, spec);
  const settings: Partial<TrainingConfig> & { dataset: string } = {
    dataset,
    backbone: backboneFile,
    inputSize: 32,
    epochs: 2,
    batchSize: 8,
    seed: 5,
  };
  return { backboneFile, fileBytes, imported, settings };
}

/** Resumes a run paused after step 1 of epoch 1 (0-based): it completes, running only the 2 steps left. */
async function resumeAfterFirstStepOfSecondEpoch(runDir: string): Promise<void> {
  const events: TrainingEvent[] = [];
  const result = await resumeTraining({ runDir, onnxThreads: 1, onEvent: (e) => events.push(e) });
  assert.equal(result.status, 'completed', result.record.message);
  const started = events.find((e) => e.type === 'started');
  assert.deepEqual(started?.type === 'started' && started.resumedAt, { epoch: 1, stepInEpoch: 1 });
  assert.equal(events.filter((e) => e.type === 'step').length, 2, 'only the remaining steps ran');
}

/** Starts a run and pauses it at its first caching event: it must stop before any training step. */
async function pauseWhileCaching(
  settings: Partial<TrainingConfig> & { dataset: string },
  runDir: string,
  preset: 'quick' | 'balanced',
): Promise<void> {
  const control = new TrainingControl();
  const result = await startTraining(settings, {
    runDir,
    preset,
    onnxThreads: 1,
    control,
    onEvent: (e) => {
      if (e.type === 'caching') control.request('pause');
      assert.notEqual(e.type, 'step', 'no step runs after a pause while caching');
    },
  });
  assert.equal(result.status, 'paused');
}

test('quick preset with a backbone: cached features, frozen backbone, trained heads, exact resume', async () => {
  const { backboneFile, fileBytes, imported, settings } = await backboneRunSetup('', 21);

  // Uninterrupted.
  const events: TrainingEvent[] = [];
  const full = await startTraining(settings, {
    runDir: join(root, 'full'),
    preset: 'quick',
    onnxThreads: 1,
    onEvent: (e) => events.push(e),
  });
  assert.equal(full.status, 'completed', full.record.message);
  assert.equal(full.record.engine, 'onnxruntime');
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
  await resumeAfterFirstStepOfSecondEpoch(pausedDir);
  const again = await lastWeights(pausedDir);
  assert.equal(maxDifference(again, trained, trained.keys()), 0, 'resume gives the same weights');
  assert.deepEqual((await readRunRecord(pausedDir)).backbone, full.record.backbone);

  // Paused while the features are being computed: a checkpoint of the starting weights, and a resume
  // that computes them again and trains the whole run.
  const earlyDir = join(root, 'paused-caching');
  await pauseWhileCaching(settings, earlyDir, 'quick');
  const fromCaching = await resumeTraining({ runDir: earlyDir, onnxThreads: 1 });
  assert.equal(fromCaching.status, 'completed', fromCaching.record.message);
  assert.equal(maxDifference(await lastWeights(earlyDir), trained, trained.keys()), 0);
});

test('quick preset with a backbone on a forced TensorFlow.js engine: the heads train there, the backbone stays', async () => {
  const { imported, settings } = await backboneRunSetup('-tfjs', 23);
  const runDir = join(root, 'quick-tfjs');
  const result = await startTraining(settings, { runDir, preset: 'quick', onnxThreads: 1, engine: 'tfjs' });
  assert.equal(result.status, 'completed', result.record.message);
  assert.equal(result.record.engine, 'tfjs');
  assert.ok(
    (result.record.engineReasons ?? []).some((r) => /heads train on TensorFlow\.js/.test(r)),
    String(result.record.engineReasons),
  );
  const trained = await lastWeights(runDir);
  const features = [...imported.keys()].filter((n) => n.startsWith('features.'));
  assert.equal(maxDifference(trained, imported, features), 0, 'the frozen backbone is the imported one');
  const initial = initWeights(result.record.spec, createRandom(deriveSeed(5, 'init')));
  for (const name of ['head.weight', 'u.0.weight', 'project.weight'])
    assert.ok(maxDifference(trained, initial, [name]) > 1e-4, `${name} was trained`);
});

/** The normalised NHWC batch of `paths` as training and classification see them (centre crop). */
async function imageBatch(
  paths: readonly string[],
  size: number,
  config: TrainingConfig,
): Promise<Float32Array> {
  const per = size * size * 3;
  const x = new Float32Array(paths.length * per);
  for (let k = 0; k < paths.length; k++)
    normaliseRgb8((await decodeImageRgb8(paths[k], { size })).data, config, x, k * per);
  return x;
}

/** Images of a split of the tiny dataset with their class index (classes in the run's order). */
async function splitImages(dataset: string, split: string, classes: readonly string[]) {
  const out: { path: string; label: number }[] = [];
  for (const [label, name] of classes.entries())
    for (const file of (await readdir(join(dataset, split, name))).sort())
      out.push({ path: join(dataset, split, name, file), label });
  return out;
}

test('balanced preset with a backbone: l1, l2 cached, block 5 and the heads trained, exact resume, exported model', async () => {
  const { imported, settings } = await backboneRunSetup('-balanced', 22);
  const { dataset } = settings;

  // Uninterrupted.
  const runDir = join(root, 'balanced');
  const events: TrainingEvent[] = [];
  const result = await startTraining(settings, {
    runDir,
    preset: 'balanced',
    onnxThreads: 1,
    onEvent: (e) => events.push(e),
  });
  assert.equal(result.status, 'completed', result.record.message);
  assert.equal(result.record.config.freezeBlocks, 4);
  assert.equal(result.record.engine, 'onnxruntime', 'the cached path trains on the chosen engine');
  assert.ok(
    (result.record.engineReasons ?? []).some((r) =>
      /computed once on onnxruntime and block 5 and the heads train on onnxruntime/.test(r),
    ),
    String(result.record.engineReasons),
  );
  const caching = events.filter((e) => e.type === 'caching');
  assert.ok(caching.some((e) => e.split === 'train' && e.done === e.total && e.total === 24));
  assert.ok(caching.some((e) => e.split === 'val' && e.done === e.total && e.total === 8));
  assert.ok(
    events.findIndex((e) => e.type === 'step') > events.findIndex((e) => e.type === 'caching'),
    'caching comes before training',
  );
  assert.equal(events.filter((e) => e.type === 'step').length, 6);

  // Blocks 1-4 are the imported ones bit for bit; block 5's weights and BatchNorm statistics trained.
  const trained = await lastWeights(runDir);
  const names = (featuresIndex: number): string[] =>
    [`features.${featuresIndex}.weight`, `features.${featuresIndex}.bias`].concat(
      ['weight', 'bias', 'running_mean', 'running_var'].map((k) => `features.${featuresIndex + 1}.${k}`),
    );
  for (const c of convLayers(spec)) {
    const difference = maxDifference(trained, imported, names(c.featuresIndex));
    if (c.index <= 10) assert.equal(difference, 0, `conv ${c.index} (frozen) is the imported one`);
    else {
      assert.ok(difference > 0, `conv ${c.index} (block 5) was fine-tuned`);
      const bn = `features.${c.featuresIndex + 1}`;
      for (const stat of ['running_mean', 'running_var'])
        assert.ok(maxDifference(trained, imported, [`${bn}.${stat}`]) > 1e-4, `${bn}.${stat} moved`);
    }
  }

  // Paused while the features are being computed, resumed, paused after the first step of the second
  // epoch, resumed again: the same weights as the uninterrupted run, bit for bit.
  const pausedDir = join(root, 'balanced-paused');
  await pauseWhileCaching(settings, pausedDir, 'balanced');
  const midEpoch = new TrainingControl();
  const second = await resumeTraining({
    runDir: pausedDir,
    onnxThreads: 1,
    control: midEpoch,
    onEvent: (e) => {
      if (e.type === 'step' && e.epoch === 1 && e.step === 1) midEpoch.request('pause');
    },
  });
  assert.equal(second.status, 'paused', second.record.message);
  await resumeAfterFirstStepOfSecondEpoch(pausedDir);
  assert.equal(
    maxDifference(await lastWeights(pausedDir), trained, trained.keys()),
    0,
    'resume gives the same weights',
  );

  // The exported model (best weights, block 5's statistics folded in) classifies as the run evaluated it,
  // as TF.js's full model with those weights does, and has the validation loss the cached path measured.
  const { record } = result;
  const modelPath = join(root, 'balanced-model', 'model.onnx');
  await exportRun(runDir, modelPath);
  const evaluation = JSON.parse(await readFile(runPath(runDir, 'evaluation'), 'utf8')) as EvaluationReport;
  assert.equal(evaluation.split, 'test');
  const classified = await classifyFolder(
    modelPath,
    [join(dataset, 'test')],
    join(root, 'balanced-classified'),
    {
      threads: 1,
      topK: 2,
    },
  );
  const byPath = new Map((await resultsOf(classified)).results.map((r) => [r.path, r]));
  const testImages = await splitImages(dataset, 'test', record.classes);
  assert.equal(testImages.length, 8);
  const best = (await loadRunModel(runDir)).weights;
  const model = AttentionVgg.fromWeights(record.spec, best);
  const predict = async (m: AttentionVgg, paths: readonly string[]): Promise<tf.Tensor2D> => {
    const x = await imageBatch(paths, 32, record.config);
    return tf.tidy(() => m.forward(tf.tensor4d(x, [paths.length, 32, 32, 3])).logits);
  };
  const testLogits = await predict(
    model,
    testImages.map((t) => t.path),
  );
  const tfjsProbabilities = tf.tidy(() => tf.softmax(testLogits).arraySync());
  testLogits.dispose();
  for (const [k, image] of testImages.entries()) {
    const r = byPath.get(image.path);
    assert.ok(r && r.status === 'ok', `${image.path} was classified`);
    const prediction = evaluation.predictions.find((p) => p.path === image.path);
    assert.ok(prediction, `${image.path} was evaluated`);
    assert.equal(r.top[0].label, prediction.predicted, 'the exported model predicts what the run evaluated');
    assert.ok(Math.abs(r.top[0].probability - prediction.confidence) < 1e-5);
    const p = tfjsProbabilities[k];
    assert.equal(record.classes[p.indexOf(Math.max(...p))], r.top[0].label, 'and what TF.js predicts');
    assert.ok(Math.abs(Math.max(...p) - r.top[0].probability) < 1e-4);
  }
  // The best epoch's validation ran on the cached path (half-precision l1, l2; block 5 on its running
  // statistics): the full model with the saved weights gives the same loss.
  const val = await splitImages(dataset, 'val', record.classes);
  const valLoss = async (m: AttentionVgg): Promise<number> => {
    const logits = await predict(
      m,
      val.map((v) => v.path),
    );
    const loss = tf.tidy(
      () =>
        crossEntropy(
          logits,
          tf.tensor1d(
            val.map((v) => v.label),
            'int32',
          ),
        ).dataSync()[0],
    );
    logits.dispose();
    return loss;
  };
  const fullValLoss = await valLoss(model);
  const bestEpoch = events.filter((e) => e.type === 'epoch' && e.improved).pop();
  assert.ok(bestEpoch?.type === 'epoch');
  const lossError = Math.abs(bestEpoch.valLoss - fullValLoss) / fullValLoss;
  // Block 5's running statistics as imported instead of as trained: the comparison tells them apart.
  const stale = new Map(best);
  for (const [name, a] of imported) if (/running_(mean|var)$/.test(name)) stale.set(name, a);
  const staleModel = AttentionVgg.fromWeights(record.spec, stale);
  const staleError = Math.abs(bestEpoch.valLoss - (await valLoss(staleModel))) / fullValLoss;
  staleModel.dispose();
  console.log(
    `# validation loss: cached path ${bestEpoch.valLoss}, full model ${fullValLoss} (relative error ${lossError.toExponential(2)}; ${staleError.toExponential(2)} with block 5's imported statistics)`,
  );
  assert.ok(lossError < 1e-4, `validation loss ${bestEpoch.valLoss} (cached) vs ${fullValLoss} (full model)`);
  assert.ok(staleError > 1e-4, `stale statistics would pass the check: ${staleError}`);
  model.dispose();
});
