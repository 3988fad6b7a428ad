// A run may move between engines through a checkpoint (weights + models/train/optimizer.ts's
// OptimizerState): ONNX steps, then TensorFlow.js continues from getWeights()/getOptimizerState(), and
// gets what the ONNX engine gets for the same next step. Also: reusing the state tensors between steps
// changes no result.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import type { ModelSpec } from '../../../models/core/spec.js';
import { createOnnxTrainer } from '../../../models/onnx-train/trainer.js';
import { AttentionVgg } from '../../../models/tfjs/model.js';
import { Optimizer } from '../../../models/train/optimizer.js';
import { trainStep } from '../../../models/train/step.js';
import { useCpuBackend } from '../../helpers/tf.js';
import { testWeights } from '../../helpers/weights.js';
import { makeBatch, movementError, runOnnx, zeroGradientNames } from './engines.js';

const spec: ModelSpec = {
  inputSize: 32,
  width: 0.0625,
  numClasses: 3,
  attention: true,
  compatibility: 'pc',
  normalisation: 'softmax',
};
const optimizer = { name: 'sgd' as const, momentum: 0.9, weightDecay: 1e-3, nesterov: true };

test('an ONNX checkpoint resumes on TensorFlow.js with the same next step', async () => {
  const weights = testWeights(spec, 41);
  const batch = makeBatch(spec, 4, 42);
  const trainer = await createOnnxTrainer(spec, weights, { optimizer, frozenBlocks: 1 });
  try {
    await trainer.step(batch.nchw, batch.labels, { lr: 0.02 });
    await trainer.step(batch.nchw, batch.labels, { lr: 0.02, momentum: 0.8 });
    const checkpoint = { weights: trainer.getWeights(), state: trainer.getOptimizerState() };
    assert.equal(checkpoint.state.step, 2);
    const onnxNext = await trainer.step(batch.nchw, batch.labels, { lr: 0.01 });
    const onnxAfter = trainer.getWeights();

    await useCpuBackend();
    const model = AttentionVgg.fromWeights(spec, checkpoint.weights);
    const tfOptimizer = new Optimizer(optimizer);
    tfOptimizer.setState(checkpoint.state);
    const x = tf.tensor4d(batch.nhwc, [batch.n, 32, 32, 3]);
    const y = tf.tensor1d(batch.labels, 'int32');
    const tfNext = trainStep(model, tfOptimizer, x, y, { hyper: { lr: 0.01 }, frozenBlocks: 1 });
    const tfAfter = await model.toWeights();
    tf.dispose([x, y]);
    model.dispose();
    tfOptimizer.dispose();

    assert.ok(
      Math.abs(onnxNext.loss - tfNext.loss) < 1e-5 * tfNext.loss,
      `${onnxNext.loss} vs ${tfNext.loss}`,
    );
    const zero = zeroGradientNames(spec);
    for (const [name, w0] of checkpoint.weights) {
      if (zero.has(name)) continue;
      const m = movementError(w0, onnxAfter.get(name)!, tfAfter.get(name)!);
      assert.ok(m.within(1e-4), `${name}: moved with relative error ${m.error}`);
    }
  } finally {
    await trainer.dispose();
  }
});

test('writing updates into reused state tensors gives the same results as fresh outputs', async () => {
  const weights = testWeights(spec, 43);
  const batch = makeBatch(spec, 3, 44);
  const run = { optimizer, hypers: [{ lr: 0.05 }, { lr: 0.05 }, { lr: 0.01, momentum: 0 }] };
  const reused = await runOnnx(spec, weights, batch, run, { reuseStateTensors: true });
  const fresh = await runOnnx(spec, weights, batch, run, { reuseStateTensors: false });
  assert.deepEqual(reused.losses, fresh.losses);
  for (const [name, a] of reused.weights) assert.deepEqual(a.data, fresh.weights.get(name)!.data, name);
  for (const [key, a] of reused.state.slots) assert.deepEqual(a.data, fresh.state.slots.get(key)!.data, key);
});
