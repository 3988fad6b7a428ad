// The training graph on cached features on onnxruntime's WebGPU provider (Mesa's lavapipe in CI) against
// the CPU provider: with 5 frozen blocks (the heads only: no ReLU or pooling window whose routing could
// differ between providers) one Adam step with the state kept on the device equals the CPU's, and the
// evaluation graph gives the CPU's loss. The step of 4 frozen blocks runs block 5 with the layer functions
// webgpu-step.test.ts checks on this provider. Skips with the reason where no adapter exists (fails where
// test dependencies are required: test/helpers/webgpu.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ModelSpec } from '../../../models/core/spec.js';
import type { NamedArray } from '../../../models/core/weights.js';
import { createOnnxTrainer } from '../../../models/onnx-train/trainer.js';
import { webgpuMissing } from '../../helpers/webgpu.js';
import { testWeights } from '../../helpers/weights.js';
import { featuresOf } from './cached-features.js';
import { makeBatch, movementError } from './engines.js';

const missing = await webgpuMissing();
if (missing) console.log(`# skipped: ${missing}`);

const SPECS: ModelSpec[] = [
  {
    inputSize: 32,
    width: 0.125,
    numClasses: 4,
    attention: true,
    compatibility: 'pc',
    normalisation: 'softmax',
  },
  {
    inputSize: 32,
    width: 0.125,
    numClasses: 4,
    attention: true,
    compatibility: 'dp',
    normalisation: 'sigmoid',
  },
];

for (const spec of SPECS)
  test(
    `a step and an evaluation on cached features on webgpu equal the CPU's (${spec.compatibility}/${spec.normalisation}, 5 frozen)`,
    { skip: missing ?? false },
    async () => {
      const weights = testWeights(spec, 4);
      const batch = makeBatch(spec, 4, 9);
      const features = await featuresOf(spec, weights, batch, 5);
      const options = {
        frozenBlocks: 5,
        source: 'features' as const,
        optimizer: { name: 'sgd' as const, momentum: 0 },
      };
      const cpu = await createOnnxTrainer(spec, weights, options);
      const gpu = await createOnnxTrainer(spec, weights, {
        ...options,
        device: 'webgpu',
        keepStateOnDevice: true,
      });
      try {
        const hyper = { lr: 1 };
        const a = await cpu.stepFeatures(features, batch.labels, hyper);
        const b = await gpu.stepFeatures(features, batch.labels, hyper);
        assert.ok(Math.abs(a.loss - b.loss) <= 1e-5 * a.loss, `loss ${a.loss} vs ${b.loss}`);
        assert.equal(b.correct, a.correct);
        // The state is on the device; evaluation reads it back first.
        const ea = await cpu.evaluateFeatures(features, batch.labels);
        const eb = await gpu.evaluateFeatures(features, batch.labels);
        assert.ok(Math.abs(ea.loss - eb.loss) <= 1e-5 * ea.loss, `evaluation ${ea.loss} vs ${eb.loss}`);
        assert.equal(eb.correct, ea.correct);
        const wa = cpu.getWeights();
        const wb = gpu.getWeights();
        let compared = 0;
        for (const name of ['head.weight', 'head.bias', 'project.weight', 'u.0.weight', 'g.weight']) {
          const w0 = weights.get(name);
          if (!w0 || (spec.compatibility === 'dp' && name.startsWith('u.'))) continue;
          if (spec.normalisation === 'softmax' && name.startsWith('g.')) {
            assert.deepEqual(wb.get(name)?.data, w0.data, `${name} (inert) is kept`);
            continue;
          }
          const m = movementError(w0, wa.get(name) as NamedArray, wb.get(name) as NamedArray);
          assert.ok(
            m.scale > 0 && m.within(1e-4),
            `${name}: movement differs by ${m.error.toExponential(2)}`,
          );
          compared++;
        }
        assert.ok(compared >= 3, `compared ${compared} tensors`);
      } finally {
        await cpu.dispose();
        await gpu.dispose();
      }
    },
  );
