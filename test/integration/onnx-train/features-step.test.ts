// The training graph on cached features (source 'features') is the full training graph with the same
// frozen blocks, minus the frozen convolutions: fed the very tensors the full graph computed for conv 7,
// 10 (13, pool5), its step moves every trained tensor, BatchNorm average and optimiser slot as the full
// graph's step does, with 4 frozen blocks (block 5 trains, its BatchNorm on batch statistics) and with 5
// (the heads only), for SGD and Adam and the attention variants. Level 1's projection is applied after
// the pooling there (attendAndClassify's projectAfterPooling), so the two differ by float rounding only.
// Frozen tensors, and g where it is inert (pc/softmax), stay bit for bit. evaluateFeatures gives
// TensorFlow.js's inference-mode loss and hits. Bad feature batches are refused with the expected shape.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { parameterLayout, type ModelSpec } from '../../../models/core/spec.js';
import type { NamedArray } from '../../../models/core/weights.js';
import { createOnnxTrainer, type OnnxTrainerOptions } from '../../../models/onnx-train/trainer.js';
import { globalFeatureIsInert } from '../../../models/core/spec.js';
import { asFloat32 } from '../../../models/core/cached-features.js';
import { toHalf } from '../../../models/core/half-float.js';
import type { OptimizerConfig, StepHyper } from '../../../models/train/optimizer.js';
import { AttentionVgg } from '../../../models/tfjs/model.js';
import { crossEntropy } from '../../../models/train/step.js';
import { relativeError, useCpuBackend } from '../../helpers/tf.js';
import { testWeights } from '../../helpers/weights.js';
import { featuresOf } from './cached-features.js';
import { makeBatch, movementError, S64_PC_SPEC } from './engines.js';

before(useCpuBackend);

const BASE: ModelSpec = S64_PC_SPEC;

interface Case {
  name: string;
  spec: ModelSpec;
  frozenBlocks: 4 | 5;
  optimizer: OptimizerConfig;
  hypers: StepHyper[];
  labelSmoothing: number;
  /**
   * Relative tolerance of each tensor's movement (SGD), or of each Adam slot against its largest entry
   * (Adam's step divides by sqrt(v), so an entry whose gradient is float noise moves by up to lr either
   * way: its weights are compared through the slots, which hold the gradients).
   */
  tolerance: number;
}

const CASES: Case[] = [
  {
    name: 'pc/softmax, 5 frozen, SGD',
    spec: BASE,
    frozenBlocks: 5,
    optimizer: { name: 'sgd', momentum: 0 },
    hypers: [{ lr: 1 }],
    labelSmoothing: 0,
    tolerance: 1e-4,
  },
  {
    name: 'dp/sigmoid with label smoothing, 4 frozen, SGD with momentum',
    spec: { ...BASE, compatibility: 'dp', normalisation: 'sigmoid' },
    frozenBlocks: 4,
    optimizer: { name: 'sgd', momentum: 0.9, weightDecay: 5e-4 },
    hypers: [{ lr: 0.5 }, { lr: 0.5 }],
    labelSmoothing: 0.1,
    tolerance: 1e-4,
  },
  {
    name: 'pc/sigmoid, 4 frozen, Adam',
    spec: { ...BASE, normalisation: 'sigmoid' },
    frozenBlocks: 4,
    optimizer: { name: 'adam' },
    hypers: [{ lr: 1e-3 }, { lr: 1e-3 }],
    labelSmoothing: 0,
    tolerance: 1e-4,
  },
  {
    name: 'pc/softmax, 4 frozen, AdamW',
    spec: BASE,
    frozenBlocks: 4,
    optimizer: { name: 'adamw', weightDecay: 0.05 },
    hypers: [{ lr: 1e-3 }],
    labelSmoothing: 0,
    tolerance: 1e-4,
  },
  {
    name: 'additive/softmax, 5 frozen, SGD (W_l P after the pooling)',
    spec: { ...BASE, compatibility: 'additive' },
    frozenBlocks: 5,
    optimizer: { name: 'sgd', momentum: 0 },
    hypers: [{ lr: 1 }],
    labelSmoothing: 0,
    tolerance: 1e-4,
  },
  {
    name: 'additive/sigmoid, 4 frozen, Adam',
    spec: { ...BASE, compatibility: 'additive', normalisation: 'sigmoid' },
    frozenBlocks: 4,
    optimizer: { name: 'adam' },
    hypers: [{ lr: 1e-3 }, { lr: 1e-3 }],
    labelSmoothing: 0,
    tolerance: 1e-4,
  },
  {
    name: 'attention off, 5 frozen, SGD',
    spec: { ...BASE, attention: false },
    frozenBlocks: 5,
    optimizer: { name: 'sgd', momentum: 0 },
    hypers: [{ lr: 1 }],
    labelSmoothing: 0,
    tolerance: 1e-4,
  },
];

for (const c of CASES)
  test(`a step on cached features equals the full graph's step (${c.name})`, async () => {
    const weights = testWeights(c.spec, 3);
    const batch = makeBatch(c.spec, 6, 11);
    const features = await featuresOf(c.spec, weights, batch, c.frozenBlocks);
    const adam = c.optimizer.name !== 'sgd';
    const options: OnnxTrainerOptions = {
      frozenBlocks: c.frozenBlocks,
      optimizer: c.optimizer,
      labelSmoothing: c.labelSmoothing,
    };
    const full = await createOnnxTrainer(c.spec, weights, { ...options, inputLayout: 'nhwc' });
    const cached = await createOnnxTrainer(c.spec, weights, { ...options, source: 'features' });
    try {
      for (const hyper of c.hypers) {
        const a = await full.step(batch.nhwc, batch.labels, hyper);
        const b = await cached.stepFeatures(features, batch.labels, hyper);
        assert.ok(Math.abs(a.loss - b.loss) <= 1e-5 * Math.abs(a.loss), `loss ${a.loss} vs ${b.loss}`);
        assert.equal(b.correct, a.correct);
      }
      const wa = full.getWeights();
      const wb = cached.getWeights();
      const inertG = globalFeatureIsInert(c.spec);
      let compared = 0;
      for (const p of parameterLayout(c.spec)) {
        const w0 = weights.get(p.name) as NamedArray;
        const b = wb.get(p.name) as NamedArray;
        if (p.block >= 1 && p.block <= c.frozenBlocks) {
          assert.deepEqual(b.data, w0.data, `${p.name} (frozen) is bit for bit what it was`);
          continue;
        }
        if (inertG && p.name.startsWith('g.')) {
          assert.deepEqual(b.data, w0.data, `${p.name} (inert) is kept as it was`);
          continue;
        }
        // Conv biases before training-mode BatchNorm have a true gradient of 0: both move by noise.
        if (p.role === 'conv.bias') continue;
        const m = movementError(w0, wa.get(p.name) as NamedArray, b);
        assert.ok(m.scale > 0, `${p.name} moved`);
        if (!adam)
          assert.ok(m.within(c.tolerance), `${p.name}: movement differs by ${m.error.toExponential(2)}`);
        compared++;
      }
      assert.ok(compared >= (c.frozenBlocks === 4 ? 10 : 3), `compared ${compared} tensors`);
      const sa = full.getOptimizerState();
      const sb = cached.getOptimizerState();
      assert.equal(sb.step, sa.step);
      let slots = 0;
      for (const [key, slot] of sb.slots) {
        const other = sa.slots.get(key);
        assert.ok(other, `${key} exists in the full run's state`);
        assert.deepEqual(slot.shape, other.shape, key);
        if (!adam || /features\.\d+\.bias$/.test(key)) continue;
        // v holds g squared: twice g's relative error.
        const tolerance = key.startsWith('v') ? 2 * c.tolerance : c.tolerance;
        const err = relativeError(slot.data, other.data);
        assert.ok(err <= tolerance, `${key}: relative error ${err.toExponential(2)}`);
        slots++;
      }
      if (adam) assert.ok(slots >= 20, `compared ${slots} slots`);
    } finally {
      await full.dispose();
      await cached.dispose();
    }
  });

test('evaluateFeatures gives the inference-mode loss and hits of TensorFlow.js, and changes nothing', async () => {
  for (const frozenBlocks of [4, 5] as const) {
    const spec: ModelSpec = { ...BASE, compatibility: 'dp' };
    const weights = testWeights(spec, 5);
    const batch = makeBatch(spec, 5, 2);
    const features = await featuresOf(spec, weights, batch, frozenBlocks);
    const trainer = await createOnnxTrainer(spec, weights, {
      frozenBlocks,
      source: 'features',
      optimizer: { name: 'adam' },
      labelSmoothing: 0.2,
    });
    try {
      const model = AttentionVgg.fromWeights(spec, weights);
      const expected = tf.tidy(() => {
        const x = tf.tensor4d(batch.nhwc, [batch.n, spec.inputSize, spec.inputSize, 3]);
        const logits = model.attend(model.backbone(x, { training: false })).logits;
        const labels = tf.tensor1d(batch.labels, 'int32');
        return {
          loss: crossEntropy(logits, labels, 0).dataSync()[0],
          correct: tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), labels), 'int32')).dataSync()[0],
        };
      });
      model.dispose();
      const got = await trainer.evaluateFeatures(features, batch.labels);
      assert.ok(
        Math.abs(got.loss - expected.loss) <= 1e-5 * expected.loss,
        `${frozenBlocks} frozen: loss ${got.loss} vs ${expected.loss}`,
      );
      assert.equal(got.correct, expected.correct);
      // Evaluation moves nothing: a second evaluation and the weights are unchanged.
      assert.equal((await trainer.evaluateFeatures(features, batch.labels)).loss, got.loss);
      for (const [name, a] of trainer.getWeights())
        assert.deepEqual(a.data, (weights.get(name) as NamedArray).data, name);
      assert.equal(trainer.steps, 0);
    } finally {
      await trainer.dispose();
    }
  }
});

test('a features trainer refuses images, and a feature batch of the wrong shape, with the expected shape', async () => {
  const weights = testWeights(BASE, 1);
  const trainer = await createOnnxTrainer(BASE, weights, { frozenBlocks: 4, source: 'features' });
  const images = await createOnnxTrainer(BASE, weights, { frozenBlocks: 4 });
  try {
    const labels = new Int32Array([0, 1]);
    await assert.rejects(
      trainer.step(new Float32Array(2 * 64 * 64 * 3), labels, { lr: 0.1 }),
      /stepFeatures/,
    );
    const l1 = { shape: [2, 16, 16, 32], data: new Float32Array(2 * 16 * 16 * 32) };
    await assert.rejects(trainer.stepFeatures({ locals: [l1] }, labels, { lr: 0.1 }), /has 2 tensors/);
    const wrong = { shape: [2, 8, 8, 32], data: new Float32Array(2 * 8 * 8 * 32) };
    await assert.rejects(
      trainer.stepFeatures({ locals: [l1, wrong] }, labels, { lr: 0.1 }),
      /feature_l2: expected shape \[2, 8, 8, 64\]/,
    );
    await assert.rejects(images.stepFeatures({ locals: [l1] }, labels, { lr: 0.1 }), /steps on images/);
    await assert.rejects(
      createOnnxTrainer(BASE, weights, { frozenBlocks: 3, source: 'features' }),
      /needs frozen blocks 1\.\.4 or 1\.\.5, got frozenBlocks 3/,
    );
    assert.equal(trainer.steps, 0);
  } finally {
    await trainer.dispose();
    await images.dispose();
  }
});

test('a float16 features graph fed the stored bits steps and evaluates exactly as float32 on the widened values', async () => {
  for (const frozenBlocks of [4, 5] as const) {
    const weights = testWeights(BASE, 6);
    const batch = makeBatch(BASE, 6, 3);
    const exact = await featuresOf(BASE, weights, batch, frozenBlocks);
    const half = {
      locals: exact.locals.map((t) => ({ shape: t.shape, data: toHalf(asFloat32(t).data) })),
      ...(exact.pool5
        ? { pool5: { shape: exact.pool5.shape, data: toHalf(asFloat32(exact.pool5).data) } }
        : {}),
    };
    const options: OnnxTrainerOptions = { frozenBlocks, source: 'features', optimizer: { name: 'adam' } };
    const wide = await createOnnxTrainer(BASE, weights, options);
    const bits = await createOnnxTrainer(BASE, weights, { ...options, featureType: 'float16' });
    try {
      // The float32 trainer widens the half-precision batch in JavaScript; the float16 one in the graph.
      for (let k = 0; k < 2; k++) {
        const a = await wide.stepFeatures(half, batch.labels, { lr: 1e-3 });
        const b = await bits.stepFeatures(half, batch.labels, { lr: 1e-3 });
        assert.equal(b.loss, a.loss, `${frozenBlocks} frozen, step ${k + 1}: loss`);
        assert.equal(b.correct, a.correct);
      }
      const wa = wide.getWeights();
      for (const [name, t] of bits.getWeights())
        assert.deepEqual(t.data, (wa.get(name) as NamedArray).data, `${frozenBlocks} frozen: ${name}`);
      assert.deepEqual(
        await bits.evaluateFeatures(half, batch.labels),
        await wide.evaluateFeatures(half, batch.labels),
      );
      // The start of larger arrays (how a stream of batches hands over a short last batch) reads the same.
      const inLarger = (t: { shape: number[]; data: Uint16Array }) => {
        const larger = new Uint16Array(t.data.length * 2).fill(0x7bff);
        larger.set(t.data);
        return { shape: t.shape, data: larger.subarray(0, t.data.length) };
      };
      const shortLast = {
        locals: half.locals.map(inLarger),
        ...(half.pool5 ? { pool5: inLarger(half.pool5) } : {}),
      };
      assert.deepEqual(
        await bits.evaluateFeatures(shortLast, batch.labels),
        await bits.evaluateFeatures(half, batch.labels),
      );
      // Rounding really happened: the exact features give another loss.
      const exactLoss = (await wide.evaluateFeatures(exact, batch.labels)).loss;
      assert.notEqual(exactLoss, (await wide.evaluateFeatures(half, batch.labels)).loss);
      await assert.rejects(
        bits.stepFeatures(exact, batch.labels, { lr: 1e-3 }),
        /takes half-precision features .* got float32 values/,
      );
    } finally {
      await wide.dispose();
      await bits.dispose();
    }
  }
  await assert.rejects(
    createOnnxTrainer(BASE, testWeights(BASE, 1), { featureType: 'float16' }),
    /featureType float16 applies to a graph on cached features only/,
  );
});
