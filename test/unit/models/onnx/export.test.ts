// The exported graph's structure and metadata (its numbers are checked against TF.js and onnxruntime in
// test/integration/onnx), that it is the training graph's forward pass, BatchNorm folding, and the round
// trip through importAttnVggOnnx.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ATTENTION_TAPS, parameterLayout, type ModelSpec } from '../../../../models/core/spec.js';
import { buildTrainingGraph } from '../../../../models/onnx-train/train-graph.js';
import {
  buildBackboneOnnxModel,
  buildOnnxModel,
  exportBackboneOnnx,
  exportOnnx,
} from '../../../../models/onnx/export.js';
import { importAttnVggOnnx } from '../../../../models/onnx/import.js';
import { readOnnx } from '../../../../models/onnx/read.js';
import { foldBatchNorm, IDENTITY_RUNNING_VAR } from '../../../../models/onnx/batchnorm.js';
import { OnnxError } from '../../../../models/onnx/errors.js';
import { BACKBONE_LOCALS, META } from '../../../../models/onnx/metadata.js';
import { encodeModel as encode, type NodeProto } from '../../../../models/onnx/proto.js';
import { SMALL_SPEC, testWeights } from './onnx-fixtures.js';

const outputsOf = (spec: ModelSpec) =>
  buildOnnxModel(spec, testWeights(spec, 1)).graph!.output!.map((o) => [
    o.name,
    o.type!.tensorType!.shape!.dim!.map((d) => d.dimParam ?? d.dimValue),
  ]);

test('model header: IR 8, opset 17, producer, doc strings, metadata with the spec and the caller meta', () => {
  const m = readOnnx(
    exportOnnx(SMALL_SPEC, testWeights(SMALL_SPEC, 1), { classes: '["a","b","c"]', app_version: '0.1.0' }),
  );
  assert.equal(m.irVersion, 8);
  assert.equal(m.opsetVersion, 17);
  assert.equal(m.producerName, 'attnvgg');
  assert.equal(m.proto.producerVersion, '0.1.0');
  assert.ok(m.proto.docString!.includes('Learn To Pay Attention'));
  assert.ok(m.graph.docString);
  assert.deepEqual(JSON.parse(m.metadata.get(META.spec)!), SMALL_SPEC);
  assert.equal(m.metadata.get(META.batchNorm), 'folded');
  assert.equal(m.metadata.get(META.graph), 'model');
  assert.equal(m.metadata.get('classes'), '["a","b","c"]');
  const input = m.graph.input![0];
  assert.equal(input.name, 'input');
  assert.deepEqual(
    input.type!.tensorType!.shape!.dim!.map((d) => d.dimParam ?? d.dimValue),
    ['batch', 3, 32, 32],
  );
  assert.ok(!m.graph.node!.some((n) => n.opType === 'BatchNormalization'), 'BatchNorm is folded');
});

test('outputs: logits, probabilities and three maps; no maps without attention', () => {
  assert.deepEqual(outputsOf({ ...SMALL_SPEC, inputSize: 64 }), [
    ['logits', ['batch', 3]],
    ['probabilities', ['batch', 3]],
    ['attention_1', ['batch', 16, 16]],
    ['attention_2', ['batch', 8, 8]],
    ['attention_3', ['batch', 4, 4]],
  ]);
  assert.deepEqual(outputsOf({ ...SMALL_SPEC, attention: false }), [
    ['logits', ['batch', 3]],
    ['probabilities', ['batch', 3]],
  ]);
});

test('backbone sub-graph: local_1..3 and pool5', () => {
  const spec: ModelSpec = { ...SMALL_SPEC, inputSize: 64, width: 0.0625 };
  const m = buildBackboneOnnxModel(spec, testWeights(spec, 1));
  assert.deepEqual(
    m.graph!.output!.map((o) => [
      o.name,
      o.type!.tensorType!.shape!.dim!.map((d) => d.dimParam ?? d.dimValue),
    ]),
    [
      ['local_1', ['batch', 16, 16, 16]],
      ['local_2', ['batch', 32, 8, 8]],
      ['local_3', ['batch', 32, 4, 4]],
      ['pool5', ['batch', 128]],
    ],
  );
  assert.ok(!m.graph!.initializer!.some((t) => t.name!.startsWith('g.')), 'no head tensors in the backbone');
});

for (const spec of [
  SMALL_SPEC,
  { ...SMALL_SPEC, compatibility: 'dp', normalisation: 'sigmoid' },
  { ...SMALL_SPEC, compatibility: 'additive', normalisation: 'sigmoid' },
  { ...SMALL_SPEC, attention: false },
] satisfies ModelSpec[])
  test(`the inference graph is the training graph's forward, BatchNorm folded, forward only (${spec.compatibility}/${spec.normalisation}${spec.attention ? '' : ', no attention'})`, () => {
    // Both are written by models/onnx-train/forward.ts: every node of the export but the maps' final
    // Reshape is a node of the training step (its loss has the same Softmax), in the same order.
    const exported = buildOnnxModel(spec, testWeights(spec, 1)).graph!.node!;
    const training = buildTrainingGraph(spec).model.graph!.node!;
    const taps = new Map<string, string>(
      BACKBONE_LOCALS.map((name, k) => [name, `relu${ATTENTION_TAPS[k]}`]),
    );
    const key = (n: NodeProto) => `${n.opType} ${taps.get(n.output![0]) ?? n.output![0]}`;
    const position = new Map(training.map((n, i) => [key(n), i]));
    assert.deepEqual(
      exported.map(key).filter((k) => !position.has(k)),
      spec.attention ? ['Reshape attention_1', 'Reshape attention_2', 'Reshape attention_3'] : [],
    );
    const order = exported.map(key).flatMap((k) => position.get(k) ?? []);
    assert.ok(
      order.every((p, i) => i === 0 || p > order[i - 1]),
      'the same order as in the training graph',
    );
    assert.ok(exported.length > 13 * 2 + 5, 'the whole forward is there');
    assert.ok(
      exported.every(
        (n) =>
          n.opType !== 'BatchNormalization' && n.output!.length === 1 && !n.output![0].startsWith('grad_'),
      ),
      'no BatchNorm, no MaxPool Indices, no gradient',
    );
    assert.ok(training.some((n) => n.opType === 'MaxPool' && n.output!.length === 2));
  });

test('backbone sub-graph of blocks 1..4: local_1 and local_2, ending at the ReLU of conv 10; stable bytes', () => {
  const spec: ModelSpec = { ...SMALL_SPEC, inputSize: 64, width: 0.0625 };
  const weights = testWeights(spec, 2);
  for (const k of parameterLayout(spec).filter((p) => p.block === 5 || p.block === 0)) weights.delete(k.name);
  const m = buildBackboneOnnxModel(spec, weights, {}, { lastBlock: 4 });
  assert.deepEqual(
    m.graph!.output!.map((o) => o.name),
    ['local_1', 'local_2'],
  );
  const nodes = m.graph!.node!;
  assert.equal(nodes.filter((n) => n.opType === 'Conv').length, 10);
  assert.equal(nodes.filter((n) => n.opType === 'MaxPool').length, 3, 'no max-pool after block 4');
  assert.deepEqual(nodes.at(-1)!.output, ['local_2']);
  const once = exportBackboneOnnx(spec, weights, { lastBlock: 4 });
  assert.ok(Buffer.from(exportBackboneOnnx(spec, weights, { lastBlock: 4 })).equals(Buffer.from(once)));
  const whole = testWeights(spec, 2);
  assert.ok(
    Buffer.from(exportBackboneOnnx(spec, whole)).equals(
      Buffer.from(exportBackboneOnnx(spec, testWeights(spec, 2))),
    ),
  );
});

test('reserved metadata keys and weights that do not fit the spec are refused', () => {
  const w = testWeights(SMALL_SPEC, 1);
  assert.throws(() => exportOnnx(SMALL_SPEC, w, { [META.spec]: '{}' }), OnnxError);
  w.delete('head.bias');
  assert.throws(
    () => exportOnnx(SMALL_SPEC, w),
    (e: unknown) => e instanceof OnnxError && /head\.bias/.test(e.message),
  );
});

test('foldBatchNorm: conv then BatchNorm equals the folded conv', () => {
  const weight = { shape: [2, 1, 1, 1], data: new Float32Array([2, -1]) };
  const folded = foldBatchNorm(weight, new Float32Array([0.5, 1]), {
    scale: new Float32Array([3, 1]),
    shift: new Float32Array([1, -1]),
    mean: new Float32Array([1, 2]),
    variance: new Float32Array([4 - 1e-5, 1 - 1e-5]),
    epsilon: 1e-5,
  });
  // channel 0: s = 3 / 2 -> w 3, b (0.5 - 1) * 1.5 + 1 = 0.25; channel 1: s = 1 -> w -1, b (1 - 2) - 1 = -2
  assert.deepEqual([...folded.weight.data], [3, -1]);
  assert.ok(Math.abs(folded.bias[0] - 0.25) < 1e-6 && Math.abs(folded.bias[1] + 2) < 1e-6);
  assert.equal(Math.fround(IDENTITY_RUNNING_VAR + Math.fround(1e-5)), 1);
});

for (const spec of [
  SMALL_SPEC,
  { ...SMALL_SPEC, compatibility: 'dp', normalisation: 'sigmoid' },
  { ...SMALL_SPEC, compatibility: 'additive', normalisation: 'softmax' },
  { ...SMALL_SPEC, width: 1 / 512 }, // one channel everywhere: conv 7 needs no projection
  { ...SMALL_SPEC, attention: false },
] satisfies ModelSpec[])
  test(`round trip export -> import -> export writes the same bytes (${JSON.stringify(spec)})`, () => {
    const bytes = exportOnnx(spec, testWeights(spec, 3), { classes: 'x' });
    const back = importAttnVggOnnx(bytes);
    assert.deepEqual(back.spec, spec);
    assert.deepEqual(back.metadata, { classes: 'x' });
    assert.deepEqual(
      [...back.weights.keys()].sort(),
      parameterLayout(spec)
        .map((p) => p.name)
        .sort(),
    );
    assert.ok(back.weights.get('features.1.running_var')!.data.every((v) => v === IDENTITY_RUNNING_VAR));
    const again = exportOnnx(back.spec, back.weights, back.metadata);
    assert.ok(Buffer.from(again).equals(Buffer.from(bytes)), 'the second export is byte-identical');
  });

test('importAttnVggOnnx refuses files that are not whole attnvgg models', () => {
  const w = testWeights(SMALL_SPEC, 1);
  const backbone = buildBackboneOnnxModel(SMALL_SPEC, w);
  const kind = (e: unknown) => (e instanceof OnnxError ? e.kind : 'not an OnnxError');
  assert.throws(() => importAttnVggOnnx(exportOnnx({ ...SMALL_SPEC }, w).subarray(0, 100)), OnnxError);
  try {
    importAttnVggOnnx(new Uint8Array(Buffer.from(JSON.stringify(backbone))));
    assert.fail('JSON is not ONNX');
  } catch (e) {
    assert.ok(e instanceof OnnxError, String(e));
  }
  const other = buildOnnxModel(SMALL_SPEC, w);
  other.producerName = 'pytorch';
  assert.throws(
    () => importAttnVggOnnx(encode(other)),
    (e: unknown) => kind(e) === 'mismatch' && /pytorch/.test((e as Error).message),
  );
  const lying = buildOnnxModel(SMALL_SPEC, w);
  lying.metadataProps = lying.metadataProps!.map((p) =>
    p.key === META.spec ? { key: p.key, value: JSON.stringify({ ...SMALL_SPEC, width: 0.0625 }) } : p,
  );
  assert.throws(
    () => importAttnVggOnnx(encode(lying)),
    (e: unknown) => kind(e) === 'mismatch',
  );
});
