// The structural matcher: finds VGG16_bn's conv stack by graph order in our exports and in a graph built
// in the ONNX Model Zoo's structure (BatchNorm kept, other names), and says what differs when it does not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BN_EPSILON, convLayers, type ModelSpec } from '../../../../models/core/spec.js';
import { matchVggBackbone } from '../../../../models/onnx/backbone-match.js';
import { buildOnnxModel } from '../../../../models/onnx/export.js';
import { graphInput, indexGraph, walkConvStack } from '../../../../models/onnx/graph-walk.js';
import { encodeModel, type ModelProto } from '../../../../models/onnx/proto.js';
import { readOnnx } from '../../../../models/onnx/read.js';
import { OnnxError } from '../../../../models/onnx/errors.js';
import { IDENTITY_RUNNING_VAR } from '../../../../models/onnx/batchnorm.js';
import { SMALL_SPEC, testWeights, zooStyleModel } from './onnx-fixtures.js';

const spec: ModelSpec = { ...SMALL_SPEC, width: 0.0625 };
const read = (m: ModelProto) => readOnnx(encodeModel(m));

test('the walker finds 13 stages with pools after convs 2, 4, 7, 10, 13 and the head after them', () => {
  const model = read(buildOnnxModel(spec, testWeights(spec, 1)));
  const stack = walkConvStack(indexGraph(model), graphInput(model));
  assert.equal(stack.stages.length, 13);
  assert.deepEqual(
    stack.stages.flatMap((s, i) => (s.pool ? [i + 1] : [])),
    [2, 4, 7, 10, 13],
  );
  assert.deepEqual(
    [7, 10, 13].map((i) => stack.stages[i - 1].output),
    ['local_1', 'local_2', 'local_3'],
  );
  assert.deepEqual(
    stack.tail.map((n) => n.opType),
    ['Flatten', 'Gemm'],
  );
});

test('a Model-Zoo-style graph (IR 3, opset 7, BatchNorm kept) matches by structure', () => {
  const weights = testWeights(spec, 4);
  const model = read(zooStyleModel(spec, weights));
  const match = matchVggBackbone(model);
  assert.equal(match.width, spec.width);
  assert.equal(match.batchNorm, 'kept');
  for (const c of convLayers(spec))
    for (const name of [
      `features.${c.featuresIndex}.weight`,
      `features.${c.featuresIndex}.bias`,
      `features.${c.featuresIndex + 1}.weight`,
      `features.${c.featuresIndex + 1}.running_var`,
    ])
      assert.deepEqual(match.weights.get(name), weights.get(name), name);
});

test("a BatchNorm epsilon other than PyTorch's is folded into the scale", () => {
  const weights = testWeights(spec, 4);
  const match = matchVggBackbone(read(zooStyleModel(spec, weights, 1e-3)));
  const v = weights.get('features.1.running_var')!.data[0];
  const g = weights.get('features.1.weight')!.data[0];
  const expected = (g * Math.sqrt(v + BN_EPSILON)) / Math.sqrt(v + 1e-3);
  assert.ok(Math.abs(match.weights.get('features.1.weight')!.data[0] - expected) < 1e-6);
});

test('our folded exports match with identity BatchNorm', () => {
  const match = matchVggBackbone(read(buildOnnxModel(spec, testWeights(spec, 1))));
  assert.equal(match.batchNorm, 'folded');
  assert.ok(match.weights.get('features.41.running_var')!.data.every((v) => v === IDENTITY_RUNNING_VAR));
});

function refusal(m: ModelProto): string {
  try {
    matchVggBackbone(read(m));
  } catch (e) {
    assert.ok(e instanceof OnnxError, String(e));
    return `${e.kind}: ${e.message}`;
  }
  return 'accepted';
}

test('what differs is said in the refusal', () => {
  const weights = testWeights(spec, 4);
  const noPool = zooStyleModel(spec, weights);
  // Drop the max-pool after conv 2 by wiring its input straight to its reader.
  const nodes = noPool.graph!.node!;
  const pool = nodes.findIndex((n) => n.opType === 'MaxPool');
  const [pin, pout] = [nodes[pool].input![0], nodes[pool].output![0]];
  nodes.splice(pool, 1);
  for (const n of nodes) n.input = n.input!.map((i) => (i === pout ? pin : i));
  assert.match(refusal(noPool), /^mismatch: VGG16 has a max-pool after conv 2/);

  const wide = zooStyleModel(spec, weights);
  const k = wide.graph!.node!.find((n) => n.opType === 'Conv')!;
  k.attribute = k.attribute!.map((a) => (a.name === 'strides' ? { ...a, ints: [2, 2] } : a));
  assert.match(refusal(wide), /conv 1 .* strides other than 1/);

  assert.match(refusal(zooStyleModel(spec, weights)), /^accepted$/);
  const twoInputs = zooStyleModel(spec, weights);
  twoInputs.graph!.input!.push({ name: 'extra' });
  assert.match(refusal(twoInputs), /1 image input, but got a model with 2 inputs/);
});
