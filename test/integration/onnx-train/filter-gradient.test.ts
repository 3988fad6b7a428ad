// The filter-gradient formulations of models/onnx-train/layers.ts agree: 'mixed' (the default: per-image
// batched MatMuls on maps of 32x32 and larger, per-tap Gemms over N*H*W below), 'shifts' and 'per-image'
// give the same SGD step, and 'mixed' writes each layer the way it says.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ModelSpec } from '../../../models/core/spec.js';
import type { FilterGradient } from '../../../models/onnx-train/layers.js';
import { buildTrainingGraph } from '../../../models/onnx-train/train-graph.js';
import { testWeights } from '../../helpers/weights.js';
import { makeBatch, runOnnx, S64_PC_SPEC, zeroGradientNames } from './engines.js';

const spec: ModelSpec = S64_PC_SPEC;

test("'mixed' writes per-image MatMuls on 64x64 and 32x32 maps and per-tap Gemms below", () => {
  const { model } = buildTrainingGraph(spec);
  const products = new Map<string, Set<string>>();
  for (const node of model.graph?.node ?? []) {
    const m = /^(conv\d+)_dw_/.exec(node.output?.[0] ?? '');
    if (m && (node.opType === 'MatMul' || node.opType === 'Gemm'))
      products.set(m[1], (products.get(m[1]) ?? new Set()).add(node.opType as string));
  }
  // conv 1 (3 input channels) keeps its one stacked Gemm; conv 2-4 are on 64x64 and 32x32 maps.
  assert.deepEqual([...(products.get('conv1') ?? [])], ['Gemm']);
  for (const layer of ['conv2', 'conv3', 'conv4'])
    assert.deepEqual([...(products.get(layer) ?? [])], ['MatMul'], layer);
  for (let k = 5; k <= 13; k++) assert.deepEqual([...(products.get(`conv${k}`) ?? [])], ['Gemm'], `conv${k}`);
});

test('one SGD step is the same with every filter-gradient formulation', async () => {
  const weights = testWeights(spec, 11);
  const batch = makeBatch(spec, 4, 3);
  const o = { optimizer: { name: 'sgd' as const, momentum: 0 }, hypers: [{ lr: 1, momentum: 0 }] };
  const runs = new Map<FilterGradient, Awaited<ReturnType<typeof runOnnx>>>();
  for (const filterGradient of ['shifts', 'per-image', 'mixed'] as const)
    runs.set(filterGradient, await runOnnx(spec, weights, batch, o, { filterGradient }));
  const base = runs.get('shifts');
  assert.ok(base);
  const zero = zeroGradientNames(spec);
  for (const [fg, run] of runs) {
    assert.deepEqual(run.losses, base.losses, fg);
    for (const [name, t] of base.weights) {
      const other = run.weights.get(name)?.data as Float32Array;
      const start = weights.get(name)?.data as Float32Array;
      const moved = t.data as Float32Array;
      let largest = 0;
      let worst = 0;
      for (let i = 0; i < moved.length; i++) {
        largest = Math.max(largest, Math.abs(moved[i] - start[i]));
        worst = Math.max(worst, Math.abs(other[i] - moved[i]));
      }
      // Only the order of the sums differs (measured up to 1.2e-6 of the largest movement).
      const allowed = zero.has(name) ? 1e-5 : 1e-5 * largest;
      assert.ok(worst <= allowed, `${fg}: ${name} differs by ${worst} (largest movement ${largest})`);
      if (name.includes('running')) assert.deepEqual(other, moved, `${fg}: ${name}`);
    }
  }
});
