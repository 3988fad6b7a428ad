// The training-step graph's interface: which tensors come in and go out, frozen blocks as constants,
// option checks with messages that list the choices, and a deterministic encoding.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parameterLayout, type ModelSpec } from '../../../../models/core/spec.js';
import { OnnxTrainError } from '../../../../models/onnx-train/errors.js';
import { buildTrainingGraph, TRAIN_IO } from '../../../../models/onnx-train/train-graph.js';
import { encodeModel } from '../../../../models/onnx/proto.js';
import { testWeights } from '../../../helpers/weights.js';

const spec: ModelSpec = {
  inputSize: 32,
  width: 0.0625,
  numClasses: 4,
  attention: true,
  compatibility: 'pc',
  normalisation: 'softmax',
};

test('inputs: batch, labels, hyper-parameters, every parameter, running statistic and momentum buffer', () => {
  const g = buildTrainingGraph(spec);
  const inputs = g.model.graph!.input!.map((i) => i.name);
  const layout = parameterLayout(spec);
  const expected = [
    TRAIN_IO.x,
    TRAIN_IO.labels,
    TRAIN_IO.lr,
    TRAIN_IO.momentum,
    TRAIN_IO.weightDecay,
    TRAIN_IO.labelSmoothing,
    ...layout.map((p) => p.name),
    ...layout.filter((p) => p.trainable).map((p) => `momentum/${p.name}`),
  ];
  assert.deepEqual([...inputs].sort(), [...expected].sort());
  const outputs = g.model.graph!.output!.map((o) => o.name);
  assert.deepEqual(outputs.slice(0, 2), [TRAIN_IO.loss, TRAIN_IO.correct]);
  assert.deepEqual(outputs.slice(2).sort(), g.state.map((t) => t.output).sort());
  assert.equal(g.state.filter((t) => t.kind === 'param').length, layout.filter((p) => p.trainable).length);
  assert.equal(g.state.filter((t) => t.kind === 'running').length, layout.filter((p) => !p.trainable).length);
  const x = g.model.graph!.input!.find((i) => i.name === TRAIN_IO.x)!;
  assert.deepEqual(
    x.type!.tensorType!.shape!.dim!.map((d) => d.dimParam ?? d.dimValue),
    ['batch', 3, 32, 32],
  );
});

test('frozen blocks become constants of the graph and leave the state', () => {
  const weights = testWeights(spec, 1);
  const g = buildTrainingGraph(spec, { frozenBlocks: 3, frozenWeights: weights });
  const frozen = parameterLayout(spec).filter((p) => p.block >= 1 && p.block <= 3);
  const initializers = new Set(g.model.graph!.initializer!.map((t) => t.name));
  for (const p of frozen) {
    assert.ok(initializers.has(p.name), `${p.name} is a constant`);
    assert.ok(!g.state.some((t) => t.param === p.name), `${p.name} is not state`);
  }
  assert.ok(
    g.state.some((t) => t.param === 'features.24.weight' && t.kind === 'param'),
    'block 4 trains',
  );
  // BatchNorm on running statistics (epsilon 1e-5) for convs 1-7; epsilon 0 marks the per-channel affine maps.
  const onRunningStats = g.model.graph!.node!.filter(
    (n) => n.opType === 'BatchNormalization' && n.attribute!.some((a) => a.name === 'epsilon' && a.f! > 0),
  );
  assert.deepEqual(
    onRunningStats.map((n) => n.input![3]),
    [1, 4, 8, 11, 15, 18, 21].map((i) => `features.${i}.running_mean`),
    'convs 1-7 use running statistics',
  );
});

test('bad options are refused with what is allowed', () => {
  const expectError = (fn: () => unknown, pattern: RegExp) =>
    assert.throws(
      fn,
      (e: unknown) => e instanceof OnnxTrainError && e.kind === 'invalid' && pattern.test(e.message),
    );
  expectError(() => buildTrainingGraph(spec, { frozenBlocks: 6 }), /from 0 to 5, got 6/);
  expectError(
    () => buildTrainingGraph(spec, { frozenBlocks: 2 }),
    /needs the frozen tensors' values.*features\.0\.weight/,
  );
  expectError(
    () => buildTrainingGraph(spec, { inputLayout: 'chw' as 'nchw' }),
    /inputLayout must be one of: nchw, nhwc; got "chw"/,
  );
  expectError(
    () => buildTrainingGraph(spec, { filterGradient: 'fft' as 'conv' }),
    /filterGradient must be one of: mixed, shifts, per-image, im2col, conv; got "fft"/,
  );
});

test('the same spec and options always give the same bytes', () => {
  const a = encodeModel(buildTrainingGraph(spec, { nesterov: true }).model);
  const b = encodeModel(buildTrainingGraph(spec, { nesterov: true }).model);
  assert.deepEqual(a, b);
  const c = encodeModel(buildTrainingGraph(spec).model);
  assert.notDeepEqual(a, c, 'Nesterov changes the update');
});

test('Adam and AdamW graphs take their own hyper-parameters and an m and v slot per parameter', () => {
  const layout = parameterLayout(spec);
  const trainable = layout.filter((p) => p.trainable).map((p) => p.name);
  for (const [optimizer, hyper] of [
    ['adam', [TRAIN_IO.weightDecay, TRAIN_IO.stepSize, TRAIN_IO.biasCorrection2Sqrt]],
    ['adamw', [TRAIN_IO.decayFactor, TRAIN_IO.stepSize, TRAIN_IO.biasCorrection2Sqrt]],
  ] as const) {
    const g = buildTrainingGraph(spec, { optimizer });
    assert.equal(g.optimizer, optimizer);
    assert.deepEqual([...g.hyperInputs].sort(), [...hyper, TRAIN_IO.labelSmoothing].sort());
    const inputs = g.model.graph!.input!.map((i) => i.name);
    assert.ok(
      !inputs.includes(TRAIN_IO.lr) && !inputs.includes(TRAIN_IO.momentum),
      `${optimizer}: no lr, momentum`,
    );
    assert.deepEqual(
      g.state.filter((t) => t.kind === 'm').map((t) => t.input),
      trainable.map((n) => `m/${n}`),
    );
    assert.deepEqual(
      g.state.filter((t) => t.kind === 'v').map((t) => t.output),
      trainable.map((n) => `next/v/${n}`),
    );
    assert.ok(!g.state.some((t) => t.kind === 'momentum'));
  }
  assert.throws(
    () => buildTrainingGraph(spec, { optimizer: 'rmsprop' as unknown as 'adam' }),
    (e: unknown) =>
      e instanceof OnnxTrainError &&
      e.kind === 'unsupported' &&
      /Should be one of: sgd, adam, adamw/.test(e.message),
  );
  assert.throws(
    () => buildTrainingGraph(spec, { optimizer: 'adam', beta2: 1 }),
    /beta2 must be in \[0, 1\), got 1/,
  );
});
