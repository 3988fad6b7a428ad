// Training the heads on cached features is training the full model with blocks 1..5 frozen: on the same
// batch, the loss, every trainable tensor's gradient and the Adam update agree (float32 cache: to float
// rounding; half-precision cache: within what fp16 rounding of the inputs explains: the inputs move by up
// to 2^-11 relative, and the softmax attention's gradient for u is a difference of nearly equal sums,
// which amplifies that to about 5e-3 here, so 1e-2 is allowed). No tensors leak.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '../../../../models/tfjs/gradients.js';
import type { ModelSpec } from '../../../../models/core/spec.js';
import { crossEntropy, trainStep } from '../../../../models/train/step.js';
import { buildFeatureCache, type FeatureCache } from '../../../../main/services/transfer/feature-cache.js';
import {
  createHeadOptimizer,
  evaluateHead,
  headGradients,
  modelWithBackbone,
  trainHeadStep,
  trainHeads,
} from '../../../../main/services/transfer/head-trainer.js';
import { relativeError, useCpuBackend } from '../../../helpers/tf.js';
import { testWeights } from '../../../helpers/weights.js';
import { plainBatch, TRANSFER_SPEC, writeNoiseImages } from './transfer-fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'attnvgg-head-'));
let items: Awaited<ReturnType<typeof writeNoiseImages>>;

before(async () => {
  await useCpuBackend();
  items = await writeNoiseImages(join(dir, 'images'), 6);
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Full-model loss and gradients with blocks 1..5 frozen, by parameter name. */
function fullGradients(
  model: ReturnType<typeof modelWithBackbone>,
  x: Float32Array,
  labels: Int32Array,
  s: number,
) {
  const params = model.trainableVariables(5);
  const names = [...params.keys()];
  const list = [...params.values()];
  const { value, grads } = tf.variableGrads(() => {
    const { logits } = model.forward(tf.tensor4d(x, [labels.length, s, s, 3]), {
      training: true,
      frozenBlocks: 5,
    });
    return crossEntropy(logits, tf.tensor1d(labels, 'int32'));
  }, list);
  model.discardBatchStats();
  const out = new Map<string, Float32Array>();
  list.forEach((v, i) => out.set(names[i], grads[v.name].dataSync() as Float32Array));
  const loss = value.dataSync()[0];
  tf.dispose([value, ...Object.values(grads)]);
  return { loss, grads: out };
}

const variants: Partial<ModelSpec>[] = [
  {},
  { compatibility: 'dp', normalisation: 'sigmoid' },
  { compatibility: 'pc', normalisation: 'sigmoid' },
];

for (const variant of variants) {
  const spec = { ...TRANSFER_SPEC, ...variant };
  test(`cached-feature gradients equal full-model frozen gradients (${spec.compatibility}/${spec.normalisation})`, async () => {
    const weights = testWeights(spec, 8);
    const backbone = new Map([...weights].filter(([k]) => k.startsWith('features.')));
    const model = modelWithBackbone(spec, backbone, 3);
    const x = await plainBatch(items, spec.inputSize);
    const labels = Int32Array.from(items, (i) => i.classIndex);
    const full = fullGradients(model, x, labels, spec.inputSize);
    const entries = items.map((_, image) => ({ image, view: 0 }));
    for (const [precision, tolerance] of [
      ['float32', 1e-4],
      ['float16', 1e-2],
    ] as const) {
      const cache = await buildFeatureCache(items, { spec, backbone, precision, threads: 1 });
      const batch = await cache.batch(entries);
      const before = tf.memory().numTensors;
      const head = headGradients(model, batch);
      const overall = Math.max(...[...full.grads.values()].map((a) => Math.max(...a.map(Math.abs))));
      // In pc/softmax g cannot affect the output: the head trainer leaves it out (globalFeatureIsInert).
      const inert = spec.compatibility === 'pc' && spec.normalisation === 'softmax';
      assert.deepEqual(
        [...head.grads.keys()].sort(),
        [...full.grads.keys()].filter((k) => !(inert && k.startsWith('g.'))).sort(),
      );
      if (inert)
        for (const name of ['g.weight', 'g.bias'])
          assert.ok(
            Math.max(...full.grads.get(name)!.map(Math.abs)) < 1e-6 * overall,
            `${name} is rounding noise`,
          );
      const lossErr = Math.abs(head.loss - full.loss) / Math.abs(full.loss);
      assert.ok(lossErr < 1e-4, `${precision}: loss ${head.loss} vs ${full.loss}`);
      let worst = 0;
      for (const [name, g] of head.grads) {
        const expected = full.grads.get(name)!;
        const err = relativeError(g.dataSync(), expected);
        worst = Math.max(worst, err);
        assert.ok(err < tolerance, `${precision} ${name}: gradient relative error ${err.toExponential(2)}`);
      }
      console.log(
        `# ${spec.compatibility}/${spec.normalisation} ${precision}: loss error ${lossErr.toExponential(2)}, worst gradient error ${worst.toExponential(2)}`,
      );
      tf.dispose([...head.grads.values()]);
      assert.equal(tf.memory().numTensors, before, 'headGradients leaks no tensors');
      await cache.dispose();
    }
    model.dispose();
  });
}

test('one Adam step on cached features updates the weights as trainStep with frozen blocks does', async () => {
  const spec = { ...TRANSFER_SPEC, compatibility: 'dp' as const };
  const weights = testWeights(spec, 9);
  const backbone = new Map([...weights].filter(([k]) => k.startsWith('features.')));
  const a = modelWithBackbone(spec, backbone, 4);
  const b = modelWithBackbone(spec, backbone, 4);
  const x = await plainBatch(items, spec.inputSize);
  const labels = Int32Array.from(items, (i) => i.classIndex);
  const optA = createHeadOptimizer();
  const optB = createHeadOptimizer();
  const cache = await buildFeatureCache(items, { spec, backbone, precision: 'float32', threads: 1 });
  const batch = await cache.batch(items.map((_, image) => ({ image, view: 0 })));
  for (let step = 0; step < 2; step++) {
    const xs = tf.tensor4d(x, [6, 32, 32, 3]);
    const ys = tf.tensor1d(labels, 'int32');
    const full = trainStep(a, optA, xs, ys, { hyper: { lr: 1e-3 }, frozenBlocks: 5 });
    tf.dispose([xs, ys]);
    const before = tf.memory().numTensors;
    const head = trainHeadStep(b, optB, batch, { hyper: { lr: 1e-3 } });
    // The first step creates Adam's two moment slots per trainable tensor; nothing else may remain.
    const slots = step === 0 ? 2 * b.trainableVariables(5).size : 0;
    assert.equal(tf.memory().numTensors, before + slots, 'trainHeadStep leaks no tensors');
    assert.ok(
      Math.abs(head.loss - full.loss) < 1e-5 * Math.abs(full.loss),
      `step ${step}: ${head.loss} vs ${full.loss}`,
    );
    assert.equal(head.correct, full.correct);
  }
  const wa = await a.toWeights();
  const wb = await b.toWeights();
  for (const name of a.trainableVariables(5).keys()) {
    const err = relativeError(wb.get(name)!.data, wa.get(name)!.data);
    // Adam divides by sqrt(v): float rounding of the gradient moves an update by far less than lr
    // (1e-3 of weights of size ~0.2, i.e. 5e-3 relative), which 1e-4 would catch.
    assert.ok(err < 1e-4, `${name} after 2 steps: relative error ${err.toExponential(2)}`);
  }
  for (const name of ['features.0.weight', 'features.41.running_var'])
    assert.deepEqual(wb.get(name)!.data, wa.get(name)!.data, `${name} is untouched`);
  optA.dispose();
  optB.dispose();
  a.dispose();
  b.dispose();
  await cache.dispose();
});

test('trainHeads runs the recipe loop and validates each epoch', async () => {
  const spec = TRANSFER_SPEC;
  const backbone = new Map([...testWeights(spec, 2)].filter(([k]) => k.startsWith('features.')));
  const model = modelWithBackbone(spec, backbone, 1);
  const train: FeatureCache = await buildFeatureCache(items, { spec, backbone, views: 2, threads: 1 });
  const val = await buildFeatureCache(items.slice(0, 3), { spec, backbone, threads: 1 });
  const epochs = await trainHeads(model, train, val, { epochs: 3, batchSize: 4, lr: 1e-2 });
  assert.equal(epochs.length, 3);
  for (const e of epochs) {
    assert.ok(Number.isFinite(e.trainLoss));
    assert.equal(e.validation?.count, 3);
  }
  assert.ok(
    epochs[2].trainLoss < epochs[0].trainLoss,
    `training loss falls: ${epochs.map((e) => e.trainLoss)}`,
  );
  const again = await evaluateHead(model, val);
  assert.equal(again.accuracy, epochs[2].validation!.accuracy);
  model.dispose();
  await Promise.all([train.dispose(), val.dispose()]);
});
