// Training steps in TensorFlow.js against the same steps in PyTorch (test/fixtures/torch_attnvgg.py):
// gradients through BatchNorm in training mode, attention, the loss with label smoothing, SGD with
// momentum and coupled weight decay, Adam, and BatchNorm's running averages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { AttentionVgg } from '../../../models/tfjs/model.js';
import { initWeights } from '../../../models/core/weights.js';
import { createRandom } from '../../../models/core/random.js';
import { parameterLayout, type ModelSpec } from '../../../models/core/spec.js';
import { Optimizer, type OptimizerConfig } from '../../../models/train/optimizer.js';
import { trainStep } from '../../../models/train/step.js';
import { relativeError, useCpuBackend } from '../../helpers/tf.js';
import { pythonMissing } from '../../helpers/python.js';
import { torchSteps, writeTorchInputs } from '../../helpers/torch-steps.js';
import { skipOrFail } from '../../helpers/skip-or-fail.js';

const missing = skipOrFail(pythonMissing(['torch']));
if (missing) console.log(`# skipping PyTorch training parity: ${missing}`);

const cases: { spec: ModelSpec; opt: OptimizerConfig & { lr: number; labelSmoothing?: number } }[] = [
  {
    spec: {
      inputSize: 32,
      width: 0.125,
      numClasses: 4,
      attention: true,
      compatibility: 'pc',
      normalisation: 'softmax',
    },
    opt: { name: 'sgd', lr: 0.01, momentum: 0.9, weightDecay: 5e-4 },
  },
  {
    spec: {
      inputSize: 64,
      width: 0.0625,
      numClasses: 3,
      attention: true,
      compatibility: 'dp',
      normalisation: 'sigmoid',
    },
    // A larger epsilon keeps Adam from blowing float noise in near-zero gradients up to full steps.
    opt: { name: 'adam', lr: 1e-3, weightDecay: 1e-4, labelSmoothing: 0.1, epsilon: 1e-2 },
  },
  {
    spec: {
      inputSize: 32,
      width: 0.125,
      numClasses: 3,
      attention: true,
      compatibility: 'additive',
      normalisation: 'softmax',
    },
    opt: { name: 'sgd', lr: 0.01, momentum: 0.9, weightDecay: 5e-4 },
  },
  {
    spec: {
      inputSize: 32,
      width: 0.125,
      numClasses: 3,
      attention: false,
      compatibility: 'pc',
      normalisation: 'softmax',
    },
    opt: { name: 'sgd', lr: 0.02, momentum: 0.9 },
  },
];

for (const { spec, opt } of cases)
  test(
    `gradients and 3 training steps equal PyTorch's: ${opt.name}, ${spec.attention ? `${spec.compatibility}/${spec.normalisation}` : 'no attention'}`,
    { skip: missing },
    async () => {
      await useCpuBackend();
      const dir = mkdtempSync(join(tmpdir(), 'attnvgg-train-parity-'));
      try {
        const weights = initWeights(spec, createRandom(21));
        const n = 6;
        const x = tf.randomNormal([n, spec.inputSize, spec.inputSize, 3], 0, 1, 'float32', 22) as tf.Tensor4D;
        const yData = Float32Array.from({ length: n }, (_, i) => i % spec.numClasses);
        const labels = tf.tensor1d(yData, 'int32');
        writeTorchInputs(dir, weights, { shape: x.shape, data: x.dataSync() as Float32Array }, yData);

        // 1. Gradients: one plain SGD step with lr 1 moves each weight by minus its gradient.
        const torchGrad = torchSteps(dir, spec, {
          optimizer: 'sgd',
          lr: 1,
          momentum: 0,
          weightDecay: 0,
          steps: 1,
        });
        const probe = AttentionVgg.fromWeights(spec, weights);
        trainStep(probe, new Optimizer({ name: 'sgd', momentum: 0 }), x, labels, { hyper: { lr: 1 } });
        const probed = await probe.toWeights();
        probe.dispose();
        // Some gradients are zero in exact arithmetic (a conv bias followed by training-mode BatchNorm;
        // g under pc + softmax, whose term is the same at every position): there both sides are float noise.
        const zeroGradient = new Set(
          parameterLayout(spec)
            .filter(
              (p) =>
                p.role === 'conv.bias' ||
                (spec.attention &&
                  spec.compatibility === 'pc' &&
                  spec.normalisation === 'softmax' &&
                  p.name.startsWith('g.')),
            )
            .map((p) => p.name),
        );
        for (const [name, w0] of weights) {
          if (name.includes('running')) continue;
          const ours = w0.data.map((v, i) => v - probed.get(name)!.data[i]);
          const theirs = w0.data.map((v, i) => v - torchGrad.get(name)!.data[i]);
          if (zeroGradient.has(name)) {
            assert.ok(
              Math.max(...ours.map(Math.abs), ...theirs.map(Math.abs)) < 1e-5,
              `${name}: gradient should vanish`,
            );
            continue;
          }
          const err = relativeError(ours, theirs);
          assert.ok(err < 1e-4, `${name}: gradient relative error ${err}`);
        }

        // 2. Three steps of the optimiser under test (momentum, weight decay, Adam, label smoothing).
        const steps = 3;
        const expected = torchSteps(dir, spec, {
          optimizer: opt.name,
          lr: opt.lr,
          momentum: opt.momentum,
          weightDecay: opt.weightDecay ?? 0,
          steps,
          labelSmoothing: opt.labelSmoothing ?? 0,
          epsilon: opt.epsilon,
        });
        const model = AttentionVgg.fromWeights(spec, weights);
        const optimizer = new Optimizer(opt);
        const losses: number[] = [];
        for (let s = 0; s < steps; s++)
          losses.push(
            trainStep(model, optimizer, x, labels, {
              hyper: { lr: opt.lr },
              labelSmoothing: opt.labelSmoothing,
            }).loss,
          );
        assert.ok(
          relativeError(losses, expected.get('loss')!.data) < 1e-4,
          `losses ${losses} vs ${expected.get('loss')!.data}`,
        );
        const after = await model.toWeights();
        // The optimiser's movement (after - before) must agree; float noise in the second and later
        // gradients is amplified by Adam's normalisation, so this is compared at 1e-2 of the movement.
        for (const [name, a] of after) {
          if (zeroGradient.has(name)) continue;
          const w0 = weights.get(name)!.data;
          const err = relativeError(
            a.data.map((v, i) => v - w0[i]),
            expected.get(name)!.data.map((v, i) => v - w0[i]),
          );
          assert.ok(err < 1e-2, `${name}: relative error of the change ${err} after ${steps} steps`);
        }
        tf.dispose([x, labels]);
        optimizer.dispose();
        model.dispose();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
