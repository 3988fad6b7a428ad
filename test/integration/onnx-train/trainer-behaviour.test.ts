// What the ONNX trainer does besides computing: argument checks with typed errors, a diverged step that
// changes nothing (as trainStep), optimiser slots only after a step with momentum (as Optimizer),
// frozen tensors that cannot be overwritten, and a trainer that refuses work after dispose().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ModelSpec } from '../../../models/core/spec.js';
import { OnnxTrainError } from '../../../models/onnx-train/errors.js';
import { createOnnxTrainer } from '../../../models/onnx-train/trainer.js';
import { testWeights } from '../../helpers/weights.js';
import { makeBatch } from './engines.js';

const spec: ModelSpec = {
  inputSize: 32,
  width: 0.0625,
  numClasses: 3,
  attention: true,
  compatibility: 'dp',
  normalisation: 'sigmoid',
};

function isTrainError(kind: OnnxTrainError['kind'], pattern: RegExp) {
  return (e: unknown) => e instanceof OnnxTrainError && e.kind === kind && pattern.test(e.message);
}

test('arguments that do not fit are refused with what was expected', async () => {
  const weights = testWeights(spec, 1);
  await assert.rejects(
    // A name from outside TypeScript (a checkpoint's run.json, a CLI argument).
    createOnnxTrainer(spec, weights, { optimizer: { name: 'lamb' as unknown as 'adam' } }),
    isTrainError('unsupported', /no graph for the optimizer "lamb".*Should be one of: sgd, adam, adamw/),
  );
  const partial = new Map(weights);
  partial.delete('head.bias');
  await assert.rejects(createOnnxTrainer(spec, partial), isTrainError('invalid', /missing head\.bias/));
  const trainer = await createOnnxTrainer(spec, weights);
  try {
    const batch = makeBatch(spec, 2, 3);
    await assert.rejects(
      trainer.step(batch.nchw.subarray(1), batch.labels, { lr: 0.1 }),
      isTrainError('invalid', /Expected 2 images of 3x32x32 \(6144 values\) for 2 labels, got 6143/),
    );
    await assert.rejects(
      trainer.step(batch.nchw, Int32Array.from([0, 3]), { lr: 0.1 }),
      isTrainError('invalid', /Label 1 is 3; expected a class index from 0 to 2/),
    );
    await assert.rejects(
      trainer.step(batch.nchw, batch.labels, { lr: Number.NaN }),
      isTrainError('invalid', /lr/),
    );
    assert.throws(
      () =>
        trainer.setOptimizerState({
          step: 1,
          slots: new Map([['momentum/g.weight', { shape: [2, 2], data: new Float32Array(4) }]]),
        }),
      isTrainError(
        'invalid',
        /Optimizer slot momentum\/g\.weight: expected shape \[32,32\] \(TensorFlow\.js layout\), found \[2,2\]/,
      ),
    );
  } finally {
    await trainer.dispose();
  }
});

test('a step whose loss is not finite changes nothing; slots appear after the first step with momentum', async () => {
  const weights = testWeights(spec, 2);
  const trainer = await createOnnxTrainer(spec, weights, { optimizer: { name: 'sgd', momentum: 0.9 } });
  try {
    const batch = makeBatch(spec, 2, 5);
    const poisoned = batch.nchw.slice();
    poisoned[0] = Number.NaN;
    const r = await trainer.step(poisoned, batch.labels, { lr: 0.1 });
    assert.ok(Number.isNaN(r.loss));
    assert.equal(trainer.steps, 0);
    for (const [name, a] of trainer.getWeights()) assert.deepEqual(a.data, weights.get(name)!.data, name);

    await trainer.step(batch.nchw, batch.labels, { lr: 0.1, momentum: 0 });
    assert.equal(trainer.getOptimizerState().slots.size, 0, 'momentum 0 makes no slots');
    await trainer.step(batch.nchw, batch.labels, { lr: 0.1 });
    const state = trainer.getOptimizerState();
    assert.equal(state.step, 2);
    // The batch dimension is symbolic: a short last batch runs on the same graph.
    const one = await trainer.step(batch.nchw.subarray(0, 3 * 32 * 32), batch.labels.subarray(0, 1), {
      lr: 0.1,
    });
    assert.ok(Number.isFinite(one.loss), `loss of a 1-image batch: ${one.loss}`);
    assert.ok(state.slots.has('momentum/features.0.weight'));
    assert.deepEqual(
      state.slots.get('momentum/features.0.weight')!.shape,
      [3, 3, 3, 4],
      'HWIO, as the tfjs variable',
    );
  } finally {
    await trainer.dispose();
  }
  await assert.rejects(
    trainer.step(new Float32Array(0), [], { lr: 1 }),
    isTrainError('disposed', /after dispose/),
  );
});

test('frozen tensors are constants: setWeights refuses to change them, takes the rest', async () => {
  const weights = testWeights(spec, 3);
  const trainer = await createOnnxTrainer(spec, weights, { frozenBlocks: 2 });
  try {
    const changed = trainer.getWeights();
    changed.get('features.7.weight')!.data[0] += 1; // block 2
    assert.throws(
      () => trainer.setWeights(changed),
      isTrainError('invalid', /features\.7\.weight belongs to a frozen block \(1-2\)/),
    );
    const other = trainer.getWeights();
    other.get('features.14.weight')!.data[0] = 0.25; // block 3
    trainer.setWeights(other);
    assert.equal(trainer.getWeights().get('features.14.weight')!.data[0], 0.25);
  } finally {
    await trainer.dispose();
  }
});
