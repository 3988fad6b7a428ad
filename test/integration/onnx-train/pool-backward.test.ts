// The 2x2 max-pool backward written without MaxPool Indices or MaxUnpool ('argmax', for GPU providers)
// gives exactly the CPU graph's gradient ('indices'), and both send each window's gradient to its first
// maximum (PyTorch's rule): on hand-made ties (ReLU zeros, equal positive values) and in a whole step.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import type { ModelSpec } from '../../../models/core/spec.js';
import { ONNX_IR_VERSION, ONNX_OPSET } from '../../../models/onnx/metadata.js';
import { encodeModel } from '../../../models/onnx/proto.js';
import { GraphWriter } from '../../../models/onnx-train/graph-writer.js';
import { reluMaxPool2x2, POOL_BACKWARDS, type PoolBackward } from '../../../models/onnx-train/layers.js';
import { Tape } from '../../../models/onnx-train/tape.js';
import { buildTrainingGraph } from '../../../models/onnx-train/train-graph.js';
import { OnnxTrainError } from '../../../models/onnx-train/errors.js';
import { testWeights } from '../../helpers/weights.js';
import { makeBatch, runOnnx } from './engines.js';

const N = 2;
const C = 3;
const SIDE = 4;

/** A graph of ReLU + max-pool alone: inputs z and the pooled gradient dp, output dz. */
function poolGraph(poolBackward: PoolBackward): Uint8Array {
  const w = new GraphWriter();
  const tape = new Tape(w);
  const z = tape.track(w.input('z', [N, C, SIDE, SIDE]));
  const ctx = {
    w,
    tape,
    batch: w.scalar(N),
    filterGradient: 'shifts' as const,
    poolBackward,
    counts: new Map(),
  };
  const { pooled } = reluMaxPool2x2(ctx, z, { channels: C, side: SIDE }, { relu: 'relu', pool: 'pool' });
  tape.addGrad(pooled, w.input('dp', [N, C, SIDE / 2, SIDE / 2]));
  tape.backward();
  w.output('dz', tape.grad(z) as string, [N, C, SIDE, SIDE]);
  w.output('pooled', pooled, [N, C, SIDE / 2, SIDE / 2]);
  const nodes = w.build('pool', '');
  return encodeModel({
    irVersion: ONNX_IR_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    graph: nodes,
  });
}

/** PyTorch's rule, written out: the window's first maximum (row-major) takes the gradient, if > 0. */
function firstMaxGradient(z: Float32Array, dp: Float32Array): Float32Array {
  const dz = new Float32Array(z.length);
  const half = SIDE / 2;
  for (let m = 0; m < N * C; m++)
    for (let i = 0; i < half; i++)
      for (let j = 0; j < half; j++) {
        let best = -1;
        let bestValue = -Infinity;
        for (let a = 0; a < 2; a++)
          for (let b = 0; b < 2; b++) {
            const at = (m * SIDE + 2 * i + a) * SIDE + 2 * j + b;
            const v = Math.max(0, z[at]);
            if (v > bestValue) {
              bestValue = v;
              best = at;
            }
          }
        if (bestValue > 0) dz[best] = dp[(m * half + i) * half + j];
      }
  return dz;
}

/** Windows with every kind of tie, laid out as [N, C, 4, 4]: each 2x2 window one case. */
function tiedInput(): Float32Array {
  const windows = [
    [-1, -2, -3, -4], // all ReLU zeros: no gradient
    [0, 0, 0, 0],
    [-1, 0, 2, 2], // positive tie at 2 and 3: the first (2)
    [3, 3, 3, 3], // four-way tie: position 0
    [0.5, 1, 1, -1], // tie at 1 and 2
    [1, 2, 3, 4], // plain maxima at each position, below
    [4, 3, 2, 1],
    [1, 4, 2, 3],
    [1, 2, 4, 3],
    [-5, 0, -1, 0], // zero ties after a ReLU
    [2.5, 2.5, 1, 2.5],
    [0, 7, 0, 7],
  ];
  const z = new Float32Array(N * C * SIDE * SIDE);
  const half = SIDE / 2;
  let k = 0;
  for (let m = 0; m < N * C; m++)
    for (let i = 0; i < half; i++)
      for (let j = 0; j < half; j++, k++) {
        const win = windows[k % windows.length];
        for (let a = 0; a < 2; a++)
          for (let b = 0; b < 2; b++) z[(m * SIDE + 2 * i + a) * SIDE + 2 * j + b] = win[2 * a + b];
      }
  return z;
}

test('both pool backwards send the gradient to the first maximum of each window (hand-made ties)', async () => {
  const z = tiedInput();
  const dp = Float32Array.from({ length: N * C * (SIDE / 2) ** 2 }, (_, i) => 1 + i * 0.25);
  const expected = firstMaxGradient(z, dp);
  assert.ok(expected.some((v) => v !== 0) && expected.filter((v) => v !== 0).length < N * C * 4);
  for (const mode of POOL_BACKWARDS) {
    const session = await ort.InferenceSession.create(poolGraph(mode), {
      executionProviders: ['cpu'],
      logSeverityLevel: 3,
    });
    try {
      const out = await session.run({
        z: new ort.Tensor('float32', z, [N, C, SIDE, SIDE]),
        dp: new ort.Tensor('float32', dp, [N, C, SIDE / 2, SIDE / 2]),
      });
      assert.deepEqual(Array.from(out.dz.data as Float32Array), Array.from(expected), mode);
    } finally {
      await session.release();
    }
  }
});

test('the argmax pool backward writes no MaxPool Indices and no MaxUnpool', () => {
  const spec: ModelSpec = {
    inputSize: 32,
    width: 0.0625,
    numClasses: 3,
    attention: true,
    compatibility: 'pc',
    normalisation: 'softmax',
  };
  const ops = (mode: PoolBackward) =>
    buildTrainingGraph(spec, { poolBackward: mode }).model.graph?.node ?? [];
  const argmax = ops('argmax');
  assert.equal(argmax.filter((n) => n.opType === 'MaxUnpool').length, 0);
  assert.equal(argmax.filter((n) => n.opType === 'MaxPool' && (n.output?.length ?? 0) > 1).length, 0);
  assert.equal(argmax.filter((n) => n.opType === 'CumSum').length >= 5, true);
  assert.equal(ops('indices').filter((n) => n.opType === 'MaxUnpool').length, 5);
  assert.throws(
    () => buildTrainingGraph(spec, { poolBackward: 'scatter' as PoolBackward }),
    (e: unknown) =>
      e instanceof OnnxTrainError && /poolBackward must be one of: indices, argmax/.test(e.message),
  );
});

test('a whole training step gives the same weights with either pool backward (CPU)', async () => {
  for (const spec of [
    {
      inputSize: 32,
      width: 0.0625,
      numClasses: 3,
      attention: true,
      compatibility: 'pc',
      normalisation: 'softmax',
    },
    {
      inputSize: 64,
      width: 0.0625,
      numClasses: 4,
      attention: true,
      compatibility: 'dp',
      normalisation: 'sigmoid',
    },
  ] as ModelSpec[]) {
    const weights = testWeights(spec, 5);
    const batch = makeBatch(spec, 4, 2);
    const o = { optimizer: { name: 'adam' as const }, hypers: [{ lr: 0.01 }, { lr: 0.01 }] };
    const a = await runOnnx(spec, weights, batch, o, { poolBackward: 'indices' });
    const b = await runOnnx(spec, weights, batch, o, { poolBackward: 'argmax' });
    assert.deepEqual(b.losses, a.losses);
    for (const [name, t] of a.weights)
      assert.deepEqual(b.weights.get(name)?.data, t.data, `${name} at S=${spec.inputSize}`);
  }
});
