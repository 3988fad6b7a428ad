// Momentum buffers move between the ONNX trainer (PyTorch layout) and OptimizerState slots (the layout of
// the TensorFlow.js variables): the shapes are those of AttentionVgg's variables and the round trip is exact.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRandom } from '../../../../models/core/random.js';
import { parameterLayout, type ModelSpec } from '../../../../models/core/spec.js';
import { initWeights } from '../../../../models/core/weights.js';
import { fromTfLayout, toTfLayout } from '../../../../models/core/layout.js';
import { momentumSlotKey } from '../../../../models/onnx-train/slots.js';
import { AttentionVgg } from '../../../../models/tfjs/model.js';
import { useCpuBackend } from '../../../helpers/tf.js';

const spec: ModelSpec = {
  inputSize: 64,
  width: 0.125,
  numClasses: 3,
  attention: true,
  compatibility: 'pc',
  normalisation: 'softmax',
};

test('slots take the shapes and values of the TensorFlow.js variables, and convert back exactly', async () => {
  await useCpuBackend();
  const weights = initWeights(spec, createRandom(3));
  const model = AttentionVgg.fromWeights(spec, weights);
  try {
    for (const p of parameterLayout(spec)) {
      const a = weights.get(p.name)!;
      const tfLayout = toTfLayout(p.name, a);
      const v = model.variable(p.name);
      assert.deepEqual(tfLayout.shape, v.shape, p.name);
      assert.deepEqual(tfLayout.data, v.dataSync(), `${p.name}: values in the variable's order`);
      const back = fromTfLayout(p.name, tfLayout);
      assert.deepEqual(back.shape, a.shape);
      assert.deepEqual(back.data, a.data);
    }
  } finally {
    model.dispose();
  }
  assert.equal(momentumSlotKey('g.weight'), 'momentum/g.weight');
});
