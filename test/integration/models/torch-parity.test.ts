// The TensorFlow.js graph against an independent PyTorch implementation of the same spec
// (test/fixtures/torch_attnvgg.py), on random weights with non-trivial BatchNorm statistics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { AttentionVgg } from '../../../models/tfjs/model.js';
import { initWeights } from '../../../models/core/weights.js';
import { createRandom } from '../../../models/core/random.js';
import { decodeSafetensors, encodeSafetensors } from '../../../models/core/safetensors.js';
import type { ModelSpec } from '../../../models/core/spec.js';
import { relativeError, useCpuBackend } from '../../helpers/tf.js';
import { pythonMissing, runPython } from '../../helpers/python.js';
import { skipOrFail } from '../../helpers/skip-or-fail.js';
import { randomiseBatchNorm } from '../../helpers/weights.js';

const missing = skipOrFail(pythonMissing(['torch']));
if (missing) console.log(`# skipping PyTorch parity: ${missing}`);

const variants: ModelSpec[] = [
  {
    inputSize: 64,
    width: 0.125,
    numClasses: 5,
    attention: true,
    compatibility: 'pc',
    normalisation: 'softmax',
  },
  {
    inputSize: 32,
    width: 0.25,
    numClasses: 3,
    attention: true,
    compatibility: 'dp',
    normalisation: 'sigmoid',
  },
  {
    inputSize: 96,
    width: 0.0625,
    numClasses: 4,
    attention: true,
    compatibility: 'pc',
    normalisation: 'sigmoid',
  },
  {
    inputSize: 64,
    width: 0.125,
    numClasses: 3,
    attention: true,
    compatibility: 'additive',
    normalisation: 'sigmoid',
  },
  {
    inputSize: 64,
    width: 0.125,
    numClasses: 2,
    attention: false,
    compatibility: 'pc',
    normalisation: 'softmax',
  },
];

for (const spec of variants)
  test(
    `TensorFlow.js forward equals PyTorch: S=${spec.inputSize} w=${spec.width} ${spec.attention ? `${spec.compatibility}/${spec.normalisation}` : 'no attention'}`,
    { skip: missing },
    async () => {
      await useCpuBackend();
      const dir = mkdtempSync(join(tmpdir(), 'attnvgg-parity-'));
      try {
        const weights = initWeights(spec, createRandom(11));
        randomiseBatchNorm(weights, 12);
        const model = AttentionVgg.fromWeights(spec, weights);
        const x = tf.randomNormal([3, spec.inputSize, spec.inputSize, 3], 0, 1, 'float32', 13) as tf.Tensor4D;
        const xData = x.dataSync() as Float32Array;
        writeFileSync(join(dir, 'w.safetensors'), encodeSafetensors(weights));
        writeFileSync(
          join(dir, 'x.safetensors'),
          encodeSafetensors(new Map([['x', { shape: x.shape, data: xData }]])),
        );
        runPython([
          'test/fixtures/torch_attnvgg.py',
          'forward',
          JSON.stringify(spec),
          join(dir, 'w.safetensors'),
          join(dir, 'x.safetensors'),
          join(dir, 'out.safetensors'),
        ]);
        const expected = decodeSafetensors(readFileSync(join(dir, 'out.safetensors'))).tensors;
        const { logits, maps } = model.forward(x);
        assert.ok(relativeError(logits.dataSync(), expected.get('logits')!.data) < 1e-4, 'logits');
        assert.equal(maps.length, spec.attention ? 3 : 0);
        maps.forEach((m, i) => {
          const e = expected.get(`map${i + 1}`)!;
          assert.deepEqual(m.shape, e.shape);
          const err = relativeError(m.dataSync(), e.data);
          assert.ok(err < 1e-4, `map ${i + 1}: relative error ${err}`);
        });
        tf.dispose([x, logits, ...maps]);
        model.dispose();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
