// The ONNX training engine against TensorFlow.js (models/train/step.ts on the `cpu` backend):
// (a) gradients: one SGD step with lr 1 and no momentum moves every weight by minus its gradient, and the
//     BatchNorm running statistics move alike;
// (b) three steps with momentum (off for the first step, then on: PyTorch's first-step buffer), weight
//     decay and label smoothing: each step, started from TensorFlow.js's weights and optimizer state
//     before it (setWeights / setOptimizerState, which also tests that the states interchange), gives
//     TensorFlow.js's loss, weights, running statistics and optimizer state after it;
// (d) over the variants pc/dp/additive, softmax/sigmoid, attention off, frozen blocks 0 and 3.
// Why step by step: these tiny models are chaotic over several steps. TensorFlow.js against itself, with
// the weights perturbed by 1e-6 (relative), drifts by 10-80 % of a tensor's movement within three steps
// at lr 0.005 (a ReLU or pooling arg-max near a tie flips), so whole trajectories cannot be compared.
// For the same reason the batches avoid 2x2 pooling windows holding two values within float rounding
// of each other (both engines are right there, but may route the gradient to different positions).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ModelSpec } from '../../../models/core/spec.js';
import { createOnnxTrainer } from '../../../models/onnx-train/trainer.js';
import { momentumSlotKey } from '../../../models/onnx-train/slots.js';
import { relativeError } from '../../helpers/tf.js';
import { testWeights } from '../../helpers/weights.js';
import {
  makeBatch,
  movementError,
  runOnnx,
  runTfjs,
  SMALL_SPEC,
  zeroGradientNames,
  type Batch,
  type ParityCase,
} from './engines.js';
import type { Weights } from '../../../models/core/weights.js';
import type { OptimizerState } from '../../../models/train/optimizer.js';

interface Case extends ParityCase {
  /** Also run (b), the three-step check. */
  steps: boolean;
}

const cases: Case[] = [
  {
    name: 'pc/softmax, S=64 (pool5 is 2x2: flatten order)',
    spec: {
      inputSize: 64,
      width: 0.0625,
      numClasses: 3,
      attention: true,
      compatibility: 'pc',
      normalisation: 'softmax',
    },
    frozenBlocks: 0,
    labelSmoothing: 0,
    inputLayout: 'nchw',
    steps: false,
  },
  {
    name: 'pc/softmax, 3 steps',
    spec: { ...SMALL_SPEC, attention: true, compatibility: 'pc', normalisation: 'softmax' },
    frozenBlocks: 0,
    labelSmoothing: 0,
    inputLayout: 'nchw',
    steps: true,
  },
  {
    name: 'dp/sigmoid, label smoothing, NHWC input, 3 steps',
    spec: { ...SMALL_SPEC, attention: true, compatibility: 'dp', normalisation: 'sigmoid' },
    frozenBlocks: 0,
    labelSmoothing: 0.1,
    inputLayout: 'nhwc',
    steps: true,
  },
  {
    name: 'pc/sigmoid, frozen blocks 1-3, 3 steps',
    spec: { ...SMALL_SPEC, attention: true, compatibility: 'pc', normalisation: 'sigmoid' },
    frozenBlocks: 3,
    labelSmoothing: 0,
    inputLayout: 'nchw',
    steps: true,
  },
  {
    name: 'dp/softmax',
    spec: { ...SMALL_SPEC, attention: true, compatibility: 'dp', normalisation: 'softmax' },
    frozenBlocks: 0,
    labelSmoothing: 0,
    inputLayout: 'nchw',
    steps: false,
  },
  {
    name: 'additive/softmax, 3 steps',
    spec: { ...SMALL_SPEC, attention: true, compatibility: 'additive', normalisation: 'softmax' },
    frozenBlocks: 0,
    labelSmoothing: 0,
    inputLayout: 'nchw',
    steps: true,
  },
  {
    name: 'additive/sigmoid, frozen blocks 1-3, NHWC input',
    spec: { ...SMALL_SPEC, attention: true, compatibility: 'additive', normalisation: 'sigmoid' },
    frozenBlocks: 3,
    labelSmoothing: 0,
    inputLayout: 'nhwc',
    steps: false,
  },
  {
    name: 'attention off',
    spec: { ...SMALL_SPEC, attention: false, compatibility: 'pc', normalisation: 'softmax' },
    frozenBlocks: 0,
    labelSmoothing: 0,
    inputLayout: 'nchw',
    steps: false,
  },
];

/** Weights (and running statistics) after one step, ONNX against TensorFlow.js, from the same start. */
function assertSameStep(
  spec: ModelSpec,
  before: Weights,
  onnx: Weights,
  tfjs: Weights,
  tolerance: number,
  what: string,
): void {
  const zero = zeroGradientNames(spec);
  for (const [name, w0] of before) {
    const a = onnx.get(name)!;
    const b = tfjs.get(name)!;
    if (name.includes('.running_')) {
      assert.ok(relativeError(a.data, b.data) < 1e-5, `${what}: ${name} differs`);
      continue;
    }
    const m = movementError(w0, a, b);
    // A zero true gradient: only float noise (and weight decay, momentum, which both apply alike) moves it.
    if (zero.has(name))
      assert.ok(m.diff < 1e-5, `${what}: ${name} moved ${m.diff} differently (zero gradient)`);
    else if (m.scale === 0) assert.equal(m.diff, 0, `${what}: ${name} is frozen, yet it moved`);
    else
      assert.ok(m.within(tolerance), `${what}: ${name} moved with relative error ${m.error} (of ${m.scale})`);
  }
}

function assertSameState(spec: ModelSpec, onnx: OptimizerState, tfjs: OptimizerState, what: string): void {
  const zero = zeroGradientNames(spec);
  assert.equal(onnx.step, tfjs.step, `${what}: step`);
  assert.deepEqual([...onnx.slots.keys()].sort(), [...tfjs.slots.keys()].sort(), `${what}: slots`);
  for (const [key, b] of tfjs.slots) {
    const a = onnx.slots.get(key)!;
    assert.deepEqual(a.shape, b.shape, `${what}: ${key} shape (TensorFlow.js layout)`);
    const param = key.slice(momentumSlotKey('').length);
    if (zero.has(param))
      assert.ok(relativeError(a.data, b.data) < 1e-2 || Math.max(...a.data.map(Math.abs)) < 1e-3);
    else {
      // A buffer is a raw float32 gradient (plus decay); sums that cancel leave ~1e-4 of noise in some
      // (u under pc/sigmoid), which (a) bounds at 1e-4 only at the starting weights.
      const err = relativeError(a.data, b.data);
      assert.ok(err < 3e-4, `${what}: ${key} buffer differs by ${err}`);
    }
  }
}

async function threeSteps(c: Case, weights: Weights, batch: Batch): Promise<void> {
  const run = {
    frozenBlocks: c.frozenBlocks,
    labelSmoothing: c.labelSmoothing,
    optimizer: { name: 'sgd' as const, momentum: 0.9, weightDecay: 5e-4 },
    hypers: [
      { lr: 0.05, momentum: 0 },
      { lr: 0.05, momentum: 0.9 },
      { lr: 0.02, momentum: 0.85 },
    ],
  };
  const tfjs = await runTfjs(c.spec, weights, batch, run);
  const trainer = await createOnnxTrainer(c.spec, weights, { ...run, inputLayout: c.inputLayout });
  try {
    const x = c.inputLayout === 'nchw' ? batch.nchw : batch.nhwc;
    for (let k = 0; k < run.hypers.length; k++) {
      const before = tfjs.after[k];
      trainer.setWeights(before.weights);
      trainer.setOptimizerState(before.state);
      const r = await trainer.step(x, batch.labels, run.hypers[k]);
      const what = `step ${k + 1}`;
      assert.ok(
        Math.abs(r.loss - tfjs.losses[k]) < 1e-5 * tfjs.losses[k],
        `${what}: loss ${r.loss} vs ${tfjs.losses[k]}`,
      );
      assert.equal(r.correct, tfjs.correct[k], `${what}: correct`);
      // The float32 resolution of the weights is allowed for, on top of 1e-4 of each movement.
      assertSameStep(c.spec, before.weights, trainer.getWeights(), tfjs.after[k + 1].weights, 1e-4, what);
      assertSameState(c.spec, trainer.getOptimizerState(), tfjs.after[k + 1].state, what);
    }
  } finally {
    await trainer.dispose();
  }
}

for (const c of cases)
  test(`ONNX training step equals TensorFlow.js: ${c.name}`, async () => {
    const weights = testWeights(c.spec, 31);
    const batch = makeBatch(c.spec, 4, 32);
    // (a) one plain step with lr 1: weights move by minus the gradients.
    const gradStep = {
      frozenBlocks: c.frozenBlocks,
      labelSmoothing: c.labelSmoothing,
      optimizer: { name: 'sgd' as const, momentum: 0 },
      hypers: [{ lr: 1 }],
    };
    const tfjs = await runTfjs(c.spec, weights, batch, gradStep);
    const onnx = await runOnnx(c.spec, weights, batch, gradStep, { inputLayout: c.inputLayout });
    assert.ok(
      Math.abs(onnx.losses[0] - tfjs.losses[0]) < 1e-5 * tfjs.losses[0],
      `loss ${onnx.losses[0]} vs ${tfjs.losses[0]}`,
    );
    assert.deepEqual(onnx.correct, tfjs.correct);
    assertSameStep(c.spec, weights, onnx.weights, tfjs.weights, 1e-4, 'gradient step');
    // (b), (c)
    if (c.steps) await threeSteps(c, weights, batch);
  });
