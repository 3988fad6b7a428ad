// The ONNX training engine (the default engine) against PyTorch directly (test/fixtures/torch_attnvgg.py),
// not only through TensorFlow.js: (a) gradients, from one SGD step with lr 1 and no momentum, which moves
// every weight by minus its gradient, and the BatchNorm running statistics; (b) three steps of SGD with
// momentum, Adam and AdamW at PyTorch's default eps (1e-8), over the variants pc/dp/additive, softmax/sigmoid,
// attention off, label smoothing and frozen blocks.
//
// The comparison rule for Adam and AdamW. With eps 1e-8, Adam's first step is about lr * sign(g) for every
// element, however small g is, so an element whose true gradient is float noise in both implementations
// may step either way. Such elements are left out: a weight is compared only where PyTorch's first
// gradient exceeds ADAM_GRADIENT_FLOOR (1e-4) of that tensor's largest gradient. Everything else is
// compared. At a floor of 1e-6 one element of conv 10's weight stepped the other way (dp/sigmoid, Adam).
// Adam's steps use lr 1e-4, so the elements left out (which still move by about lr) perturb the rest of
// the trajectory by little; an optimiser mistake (eps 1e-6 for 1e-8, or 1.5x the weight decay) fails
// every case that uses it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ModelSpec } from '../../../models/core/spec.js';
import type { OptimizerConfig } from '../../../models/train/optimizer.js';
import { pythonMissing } from '../../helpers/python.js';
import { torchSteps, writeTorchInputs } from '../../helpers/torch-steps.js';
import { skipOrFail } from '../../helpers/skip-or-fail.js';
import { relativeError } from '../../helpers/tf.js';
import { testWeights } from '../../helpers/weights.js';
import { makeBatch, movementError, runOnnx, SMALL_SPEC, zeroGradientNames } from './engines.js';

const missing = skipOrFail(pythonMissing(['torch']));
if (missing) console.log(`# skipping the ONNX engine's PyTorch parity: ${missing}`);

/** Adam and AdamW: compare only where |g| exceeds this share of the tensor's largest gradient. */
const ADAM_GRADIENT_FLOOR = 1e-4;

interface Case {
  name: string;
  spec: ModelSpec;
  optimizer: OptimizerConfig;
  lr: number;
  labelSmoothing: number;
  frozenBlocks: number;
}

const cases: Case[] = [
  {
    name: 'pc/softmax, SGD with momentum and weight decay',
    spec: { ...SMALL_SPEC, attention: true, compatibility: 'pc', normalisation: 'softmax' },
    optimizer: { name: 'sgd', momentum: 0.9, weightDecay: 5e-4 },
    lr: 0.02,
    labelSmoothing: 0,
    frozenBlocks: 0,
  },
  {
    name: 'dp/sigmoid, Adam, label smoothing',
    spec: { ...SMALL_SPEC, attention: true, compatibility: 'dp', normalisation: 'sigmoid' },
    optimizer: { name: 'adam', weightDecay: 1e-4, epsilon: 1e-8 },
    lr: 1e-4,
    labelSmoothing: 0.1,
    frozenBlocks: 0,
  },
  {
    name: 'pc/sigmoid, AdamW, frozen blocks 1-3',
    spec: { ...SMALL_SPEC, attention: true, compatibility: 'pc', normalisation: 'sigmoid' },
    optimizer: { name: 'adamw', weightDecay: 1e-2, epsilon: 1e-8 },
    lr: 1e-4,
    labelSmoothing: 0,
    frozenBlocks: 3,
  },
  {
    name: 'dp/softmax, AdamW',
    spec: { ...SMALL_SPEC, attention: true, compatibility: 'dp', normalisation: 'softmax' },
    optimizer: { name: 'adamw', weightDecay: 1e-2, epsilon: 1e-8 },
    lr: 1e-4,
    labelSmoothing: 0,
    frozenBlocks: 0,
  },
  {
    name: 'additive/softmax, SGD with momentum',
    spec: { ...SMALL_SPEC, attention: true, compatibility: 'additive', normalisation: 'softmax' },
    optimizer: { name: 'sgd', momentum: 0.9, weightDecay: 5e-4 },
    lr: 0.02,
    labelSmoothing: 0,
    frozenBlocks: 0,
  },
  {
    name: 'additive/sigmoid, SGD, label smoothing, frozen blocks 1-3',
    spec: { ...SMALL_SPEC, attention: true, compatibility: 'additive', normalisation: 'sigmoid' },
    optimizer: { name: 'sgd', momentum: 0.9 },
    lr: 0.02,
    labelSmoothing: 0.1,
    frozenBlocks: 3,
  },
  {
    name: 'attention off, SGD',
    spec: { ...SMALL_SPEC, attention: false, compatibility: 'pc', normalisation: 'softmax' },
    optimizer: { name: 'sgd', momentum: 0.9 },
    lr: 0.02,
    labelSmoothing: 0,
    frozenBlocks: 0,
  },
];

/** The elements of a tensor whose gradient is large enough to compare an Adam step on. */
function adamMask(gradient: Float32Array): boolean[] {
  let largest = 0;
  for (const v of gradient) largest = Math.max(largest, Math.abs(v));
  return Array.from(gradient, (v) => Math.abs(v) > ADAM_GRADIENT_FLOOR * largest);
}

function pick(a: Float32Array, mask: boolean[]): Float32Array {
  return a.filter((_, i) => mask[i]);
}

for (const c of cases)
  test(`ONNX training engine equals PyTorch: ${c.name}`, { skip: missing }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'attnvgg-onnx-torch-'));
    try {
      const weights = testWeights(c.spec, 41);
      const batch = makeBatch(c.spec, 4, 42);
      const size = c.spec.inputSize;
      writeTorchInputs(dir, weights, { shape: [batch.n, size, size, 3], data: batch.nhwc }, batch.labels);
      const zero = zeroGradientNames(c.spec);

      // (a) Gradients and running statistics: one SGD step, lr 1, no momentum, no decay.
      const torchGrad = torchSteps(dir, c.spec, {
        optimizer: 'sgd',
        lr: 1,
        momentum: 0,
        weightDecay: 0,
        steps: 1,
        labelSmoothing: c.labelSmoothing,
        frozenBlocks: c.frozenBlocks,
      });
      const onnxGrad = await runOnnx(c.spec, weights, batch, {
        optimizer: { name: 'sgd', momentum: 0 },
        hypers: [{ lr: 1 }],
        frozenBlocks: c.frozenBlocks,
        labelSmoothing: c.labelSmoothing,
      });
      const torchLoss = torchGrad.get('loss')!.data[0];
      assert.ok(
        Math.abs(onnxGrad.losses[0] - torchLoss) < 1e-5 * torchLoss,
        `loss ${onnxGrad.losses[0]} vs ${torchLoss}`,
      );
      const gradients = new Map<string, Float32Array>();
      for (const [name, w0] of weights) {
        const ours = onnxGrad.weights.get(name)!;
        const theirs = torchGrad.get(name)!;
        if (name.includes('.running_')) {
          assert.ok(relativeError(ours.data, theirs.data) < 1e-5, `${name}: running statistic differs`);
          continue;
        }
        gradients.set(
          name,
          w0.data.map((v, i) => v - theirs.data[i]),
        );
        const m = movementError(w0, ours, theirs);
        if (zero.has(name)) assert.ok(m.diff < 1e-5, `${name}: should have no gradient, moved ${m.diff}`);
        else if (m.scale === 0) assert.equal(m.diff, 0, `${name} is frozen, yet it moved`);
        else assert.ok(m.within(1e-4), `${name}: gradient relative error ${m.error}`);
      }

      // (b) Three steps of the optimiser under test.
      const steps = 3;
      const expected = torchSteps(dir, c.spec, {
        optimizer: c.optimizer.name as 'sgd' | 'adam' | 'adamw',
        lr: c.lr,
        momentum: c.optimizer.momentum,
        weightDecay: c.optimizer.weightDecay ?? 0,
        steps,
        labelSmoothing: c.labelSmoothing,
        epsilon: c.optimizer.epsilon,
        frozenBlocks: c.frozenBlocks,
      });
      const ours = await runOnnx(c.spec, weights, batch, {
        optimizer: c.optimizer,
        hypers: Array.from({ length: steps }, () => ({ lr: c.lr, momentum: c.optimizer.momentum })),
        frozenBlocks: c.frozenBlocks,
        labelSmoothing: c.labelSmoothing,
      });
      const adam = c.optimizer.name !== 'sgd';
      const expectedLosses = expected.get('loss')!.data;
      assert.ok(
        relativeError(ours.losses, expectedLosses) < 1e-4,
        `losses ${ours.losses} vs ${[...expectedLosses]}`,
      );
      let compared = 0;
      for (const [name, w0] of weights) {
        if (name.includes('.running_')) {
          // Under Adam the elements left out above still move by about lr, either way, and shift the
          // batch statistics that the running averages take in: 10x the SGD bound.
          const err = relativeError(ours.weights.get(name)!.data, expected.get(name)!.data);
          const bound = adam ? 1e-3 : 1e-4;
          assert.ok(err < bound, `${name}: running statistic differs by ${err} after ${steps} steps`);
          continue;
        }
        if (zero.has(name)) continue;
        const m = movementError(w0, ours.weights.get(name)!, expected.get(name)!);
        if (m.scale === 0) {
          assert.equal(m.diff, 0, `${name} is frozen, yet it moved`);
          continue;
        }
        if (!adam) {
          assert.ok(m.within(1e-2), `${name}: relative error of the change ${m.error} after ${steps} steps`);
          continue;
        }
        const mask = adamMask(gradients.get(name)!);
        const w = pick(w0.data, mask);
        const err = movementError(
          { shape: [w.length], data: w },
          { shape: [w.length], data: pick(ours.weights.get(name)!.data, mask) },
          { shape: [w.length], data: pick(expected.get(name)!.data, mask) },
        );
        assert.ok(
          err.within(1e-2),
          `${name}: relative error of the change ${err.error} after ${steps} steps`,
        );
        compared += w.length;
      }
      if (adam) assert.ok(compared > 0, 'no weight was compared');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
