// The exported ONNX graph on onnxruntime-node against the TensorFlow.js forward pass (itself checked
// against PyTorch in test/integration/models), on random inputs with non-trivial BatchNorm statistics:
// several input sizes, widths and variants; a dynamic batch; the import round trip; the backbone
// sub-graph; and a backbone read by structure from a graph in the ONNX Model Zoo's form.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import type { ModelSpec } from '../../../models/core/spec.js';
import type { NamedArray } from '../../../models/core/weights.js';
import { AttentionVgg } from '../../../models/tfjs/model.js';
import { exportBackboneOnnx, exportOnnx } from '../../../models/onnx/export.js';
import { importAttnVggOnnx, readOnnx } from '../../../models/onnx/import.js';
import { matchVggBackbone } from '../../../models/onnx/backbone-match.js';
import { openOnnxSession, type OnnxSession } from '../../../models/onnx/session.js';
import { randomInput, relativeError, useCpuBackend } from '../../helpers/tf.js';
import { testWeights, zooStyleBytes } from '../../unit/models/onnx/onnx-fixtures.js';

const TOLERANCE = 1e-4;

before(useCpuBackend);

function describe(spec: ModelSpec): string {
  const variant = spec.attention ? `${spec.compatibility}/${spec.normalisation}` : 'no attention';
  return `S=${spec.inputSize} width=${spec.width} ${variant}`;
}

/** NHWC tensor -> NCHW array for onnxruntime. */
function toNchw(x: tf.Tensor4D): NamedArray {
  return tf.tidy(() => {
    const t = tf.transpose(x, [0, 3, 1, 2]);
    return { shape: t.shape, data: t.dataSync() as Float32Array };
  });
}

function expectClose(actual: NamedArray, expected: tf.Tensor, what: string): void {
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  const err = relativeError(actual.data, expected.dataSync());
  assert.ok(err < TOLERANCE, `${what}: relative error ${err.toExponential(2)}`);
}

/** TF.js reference outputs under the ONNX names. */
function reference(model: AttentionVgg, x: tf.Tensor4D): Record<string, tf.Tensor> {
  const { logits, maps } = model.forward(x);
  const out: Record<string, tf.Tensor> = { logits, probabilities: tf.softmax(logits) };
  maps.forEach((m, i) => (out[`attention_${i + 1}`] = m));
  return out;
}

async function withSession<T>(bytes: Uint8Array, use: (s: OnnxSession) => Promise<T>): Promise<T> {
  const session = await openOnnxSession(bytes);
  try {
    return await use(session);
  } finally {
    await session.release();
  }
}

const variants: ModelSpec[] = [
  {
    inputSize: 32,
    width: 0.25,
    numClasses: 5,
    attention: true,
    compatibility: 'pc',
    normalisation: 'softmax',
  },
  {
    inputSize: 64,
    width: 0.125,
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
    width: 0.0625,
    numClasses: 2,
    attention: true,
    compatibility: 'dp',
    normalisation: 'softmax',
  },
  {
    inputSize: 32,
    width: 0.125,
    numClasses: 6,
    attention: false,
    compatibility: 'pc',
    normalisation: 'softmax',
  },
  {
    inputSize: 64,
    width: 0.25,
    numClasses: 3,
    attention: true,
    compatibility: 'pc',
    normalisation: 'softmax',
  },
  {
    inputSize: 64,
    width: 0.125,
    numClasses: 3,
    attention: true,
    compatibility: 'additive',
    normalisation: 'softmax',
  },
];

variants.forEach((spec, i) =>
  test(`onnxruntime equals TF.js, batch 3 and batch 1 through one session: ${describe(spec)}`, async () => {
    const weights = testWeights(spec, 10 + i);
    const model = AttentionVgg.fromWeights(spec, weights);
    const x = randomInput(3, spec.inputSize, 20 + i);
    const expected = reference(model, x);
    const names = Object.keys(expected);
    await withSession(exportOnnx(spec, weights), async (session) => {
      assert.deepEqual(session.outputNames, names);
      const out = await session.run(toNchw(x));
      for (const name of names) expectClose(out[name], expected[name], name);
      // The batch dimension is dynamic: one image alone gives that image's row.
      const x1 = tf.slice(x, [1, 0, 0, 0], [1, -1, -1, -1]);
      const one = await session.run(toNchw(x1));
      for (const name of names) {
        const row = tf.slice(expected[name], 1, 1);
        expectClose(one[name], row, `${name} (batch 1)`);
        row.dispose();
      }
      x1.dispose();
    });
    tf.dispose([x, ...Object.values(expected)]);
    model.dispose();
  }),
);

for (const spec of [variants[0], variants[1], variants[6]])
  test(`round trip export -> import -> export gives equal outputs: ${describe(spec)}`, async () => {
    const weights = testWeights(spec, 30);
    const bytes = exportOnnx(spec, weights);
    const imported = importAttnVggOnnx(bytes);
    const again = exportOnnx(imported.spec, imported.weights);
    const x = randomInput(2, spec.inputSize, 31);
    const input = toNchw(x);
    const first = await withSession(bytes, (s) => s.run(input));
    const second = await withSession(again, (s) => s.run(input));
    // The imported weights in TF.js (BatchNorm as the identity) compute the same as the file.
    const model = AttentionVgg.fromWeights(imported.spec, imported.weights);
    const expected = reference(model, x);
    for (const name of Object.keys(first)) {
      assert.equal(relativeError(second[name].data, first[name].data), 0, `${name}: re-export`);
      expectClose(first[name], expected[name], `${name}: TF.js from imported weights`);
    }
    tf.dispose([x, ...Object.values(expected)]);
    model.dispose();
  });

test('the backbone sub-graph equals AttentionVgg.backbone (locals NCHW, pool5 flattened C,H,W)', async () => {
  const spec = variants[2];
  const weights = testWeights(spec, 40);
  const model = AttentionVgg.fromWeights(spec, weights);
  const x = randomInput(2, spec.inputSize, 41);
  const features = model.backbone(x, { training: false });
  await withSession(exportBackboneOnnx(spec, weights), async (session) => {
    assert.deepEqual(session.outputNames, ['local_1', 'local_2', 'local_3', 'pool5']);
    const out = await session.run(toNchw(x));
    features.locals.forEach((l, k) => {
      const nchw = tf.transpose(l, [0, 3, 1, 2]);
      expectClose(out[`local_${k + 1}`], nchw, `local_${k + 1}`);
      nchw.dispose();
    });
    expectClose(out.pool5, features.pool5, 'pool5');
  });
  tf.dispose([x, ...features.locals, features.pool5]);
  model.dispose();
});

test('a Model-Zoo-style graph (BatchNorm kept, opset 7) imports by structure: conv 13 equals TF.js', async () => {
  const spec = variants[3];
  const source = testWeights(spec, 50);
  const bytes = zooStyleBytes(spec, source, 1e-3); // another epsilon than PyTorch's 1e-5
  const match = matchVggBackbone(readOnnx(bytes));
  assert.equal(match.batchNorm, 'kept');
  const weights = testWeights(spec, 51); // head and attention from elsewhere; the backbone from the file
  for (const [name, a] of match.weights) weights.set(name, a);
  const model = AttentionVgg.fromWeights(spec, weights);
  const x = randomInput(1, spec.inputSize, 52);
  const features = model.backbone(x, { training: false });
  await withSession(bytes, async (session) => {
    const out = await session.run(toNchw(x), { outputs: ['conv13_relu'] });
    const nchw = tf.transpose(features.locals[2], [0, 3, 1, 2]);
    expectClose(out.conv13_relu, nchw, 'conv 13');
    nchw.dispose();
  });
  tf.dispose([x, ...features.locals, features.pool5]);
  model.dispose();
});
