// Convolution gradients on wasm (models/tfjs/wasm-conv-gradients.ts) against the cpu backend's kernels,
// over a grid of shapes, strides and paddings; plus fused conv2d, NCHW, idempotent registration, leaks.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { Conv2D, Conv2DBackpropFilter, Conv2DBackpropInput } from '@tensorflow/tfjs-core';
import { selectBackend } from '../../../../models/tfjs/backend.js';
import {
  registerWasmConvGradients,
  wasmConvGradientsRegistered,
} from '../../../../models/tfjs/wasm-conv-gradients.js';
import { createRandom } from '../../../../models/core/random.js';
import { relativeError } from '../../../helpers/tf.js';

type Padding = 'same' | 'valid' | number | [[0, 0], [number, number], [number, number], [0, 0]];
type Shape4 = [number, number, number, number];

const TOLERANCE = 1e-4;

before(async () => {
  const report = await selectBackend({ prefer: 'wasm', env: {} });
  assert.equal(report.chosen, 'wasm');
  // tfjs-core's Node bundle registers no gradients (the union package @tensorflow/tfjs does, and its
  // dist/register_all_gradients.js cannot be imported by Node's ESM loader). If nothing else has, add
  // Conv2D's gradient exactly as tfjs-core defines it, so tf.grads reaches the two kernels under test.
  if (tf.getGradient(Conv2D) === undefined) {
    tf.registerGradient({
      kernelName: Conv2D,
      inputsToSave: ['x', 'filter'],
      gradFunc: (dy, saved, attrs) => {
        const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
        const { strides, pad, dataFormat, dimRoundingMode } = attrs as unknown as tf.Conv2DAttrs;
        const common = { strides, pad, dataFormat, ...(dimRoundingMode ? { dimRoundingMode } : {}) };
        return {
          x: () =>
            tf.engine().runKernel(
              Conv2DBackpropInput,
              { dy: dy as tf.Tensor, filter },
              {
                ...common,
                inputShape: x.shape,
              },
            ) as tf.Tensor,
          filter: () =>
            tf.engine().runKernel(
              Conv2DBackpropFilter,
              { x, dy: dy as tf.Tensor },
              {
                ...common,
                filterShape: filter.shape,
              },
            ) as tf.Tensor,
        };
      },
    });
  }
});

function randomArray(size: number, seed: number): Float32Array {
  const random = createRandom(seed);
  return Float32Array.from({ length: size }, () => random.normal());
}

async function onBackend<T>(name: string, run: () => T): Promise<T> {
  assert.ok(await tf.setBackend(name), `backend ${name} did not start`);
  return run();
}

interface Case {
  x: Shape4;
  kernel: number;
  outChannels: number;
  stride: number;
  pad: Padding;
}

/** d(sum(conv2d(x, w) * dy))/dx and /dw, with dy a fixed random tensor, as plain arrays. */
function convGradients(c: Case, seed: number): { dx: Float32Array; dw: Float32Array } {
  const wShape: Shape4 = [c.kernel, c.kernel, c.x[3], c.outChannels];
  return tf.tidy(() => {
    const x = tf.tensor4d(
      randomArray(
        c.x.reduce((a, b) => a * b),
        seed,
      ),
      c.x,
    );
    const w = tf.tensor4d(
      randomArray(
        wShape.reduce((a, b) => a * b),
        seed + 1,
      ),
      wShape,
    );
    const yShape = tf.conv2d(x, w, c.stride, c.pad).shape;
    const dy = tf.tensor(
      randomArray(
        yShape.reduce((a, b) => a * b),
        seed + 2,
      ),
      yShape,
    );
    const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad),
    )([x, w], dy);
    return { dx: dx.dataSync() as Float32Array, dw: dw.dataSync() as Float32Array };
  });
}

const shapes: Shape4[] = [
  [1, 4, 4, 3],
  [2, 7, 9, 3],
  [3, 16, 11, 5],
  [4, 13, 16, 8],
  [1, 5, 12, 1],
];
const outChannels = [5, 8, 7, 3, 4];

const cases: Case[] = [];
for (const kernel of [1, 3]) {
  for (const stride of [1, 2]) {
    for (const pad of ['same', 'valid'] as const) {
      shapes.forEach((x, i) => cases.push({ x, kernel, outChannels: outChannels[i], stride, pad }));
    }
  }
}
cases.push(
  { x: [2, 9, 8, 3], kernel: 3, outChannels: 4, stride: 2, pad: 1 },
  { x: [2, 10, 10, 6], kernel: 3, outChannels: 5, stride: 1, pad: 2 },
  {
    x: [2, 6, 7, 3],
    kernel: 3,
    outChannels: 2,
    stride: 2,
    pad: [
      [0, 0],
      [2, 1],
      [0, 3],
      [0, 0],
    ],
  },
  { x: [1, 11, 11, 4], kernel: 5, outChannels: 3, stride: 3, pad: 'same' },
  {
    x: [2, 8, 8, 3],
    kernel: 3,
    outChannels: 16,
    stride: 1,
    pad: [
      [0, 0],
      [0, 0],
      [1, 2],
      [0, 0],
    ],
  },
);

test(`conv2d gradients on wasm equal cpu over ${cases.length} shapes`, async () => {
  for (const [i, c] of cases.entries()) {
    const wasm = await onBackend('wasm', () => convGradients(c, 100 + i));
    const cpu = await onBackend('cpu', () => convGradients(c, 100 + i));
    const label = JSON.stringify(c);
    assert.ok(relativeError(wasm.dx, cpu.dx) < TOLERANCE, `dx ${label}: ${relativeError(wasm.dx, cpu.dx)}`);
    assert.ok(relativeError(wasm.dw, cpu.dw) < TOLERANCE, `dw ${label}: ${relativeError(wasm.dw, cpu.dw)}`);
  }
  await tf.setBackend('wasm');
});

// Under a gradient tape tfjs fuses only a linear activation (shouldFuse); that path differentiates
// through the fused kernel's own customGrad, which calls both backprop kernels and reduces the bias.
test('fused conv2d (bias) gradients on wasm equal cpu', async () => {
  const run = (): Float32Array[] =>
    tf.tidy(() => {
      const x = tf.tensor4d(randomArray(2 * 9 * 9 * 3, 7), [2, 9, 9, 3]);
      const w = tf.tensor4d(randomArray(3 * 3 * 3 * 6, 8), [3, 3, 3, 6]);
      const b = tf.tensor1d(randomArray(6, 9));
      const dy = tf.tensor4d(randomArray(2 * 5 * 5 * 6, 10), [2, 5, 5, 6]);
      const grads = tf.grads((xi: tf.Tensor, wi: tf.Tensor, bi: tf.Tensor) =>
        tf.fused.conv2d({
          x: xi as tf.Tensor4D,
          filter: wi as tf.Tensor4D,
          bias: bi,
          strides: 2,
          pad: 'same',
          activation: 'linear',
        }),
      )([x, w, b], dy);
      return grads.map((g) => g.dataSync() as Float32Array);
    });
  const wasm = await onBackend('wasm', run);
  const cpu = await onBackend('cpu', run);
  await tf.setBackend('wasm');
  for (const [i, name] of ['dx', 'dw', 'dbias'].entries()) {
    assert.ok(relativeError(wasm[i], cpu[i]) < TOLERANCE, `${name}: ${relativeError(wasm[i], cpu[i])}`);
  }
});

test('NCHW kernels on wasm equal cpu', async () => {
  const attrs = { strides: 2, pad: 'same', dataFormat: 'NCHW' };
  const run = (): Float32Array[] =>
    tf.tidy(() => {
      const x = tf.tensor4d(randomArray(2 * 3 * 9 * 7, 20), [2, 3, 9, 7]);
      const w = tf.tensor4d(randomArray(3 * 3 * 3 * 4, 21), [3, 3, 3, 4]);
      const dy = tf.tensor4d(randomArray(2 * 4 * 5 * 4, 22), [2, 4, 5, 4]);
      const dx = tf.engine().runKernel(
        Conv2DBackpropInput,
        { dy, filter: w },
        {
          ...attrs,
          inputShape: x.shape,
        },
      ) as tf.Tensor;
      const dw = tf.engine().runKernel(
        Conv2DBackpropFilter,
        { x, dy },
        {
          ...attrs,
          filterShape: w.shape,
        },
      ) as tf.Tensor;
      return [dx.dataSync() as Float32Array, dw.dataSync() as Float32Array];
    });
  const wasm = await onBackend('wasm', run);
  const cpu = await onBackend('cpu', run);
  await tf.setBackend('wasm');
  assert.ok(relativeError(wasm[0], cpu[0]) < TOLERANCE, `dx: ${relativeError(wasm[0], cpu[0])}`);
  assert.ok(relativeError(wasm[1], cpu[1]) < TOLERANCE, `dw: ${relativeError(wasm[1], cpu[1])}`);
});

test('gradients leak no tensors and no wasm buffers', async () => {
  await tf.setBackend('wasm');
  const backend = tf.backend() as unknown as { numDataIds(): number };
  const c: Case = { x: [2, 8, 8, 3], kernel: 3, outChannels: 4, stride: 2, pad: 'same' };
  convGradients(c, 1); // warm-up
  const tensors = tf.memory().numTensors;
  const buffers = backend.numDataIds();
  for (let i = 0; i < 5; i++) convGradients(c, i);
  assert.equal(tf.memory().numTensors, tensors);
  assert.equal(backend.numDataIds(), buffers);
});

test('registration is idempotent and replaces the package kernel quietly', () => {
  const warnings: unknown[] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => warnings.push(args);
  try {
    registerWasmConvGradients();
    registerWasmConvGradients();
  } finally {
    console.warn = warn;
  }
  assert.ok(wasmConvGradientsRegistered());
  assert.deepEqual(warnings, []);
});

test('a dy of the wrong shape is an error that says expected versus found', async () => {
  await tf.setBackend('wasm');
  const x = tf.zeros([1, 6, 6, 2]);
  const dy = tf.zeros([1, 5, 5, 3]);
  assert.throws(
    () =>
      tf.engine().runKernel(
        Conv2DBackpropFilter,
        { x, dy },
        {
          strides: 1,
          pad: 'same',
          dataFormat: 'NHWC',
          filterShape: [3, 3, 2, 3],
        },
      ),
    /expected dy of shape \[1, 6, 6, 3\], but got \[1, 5, 5, 3\]/,
  );
  tf.dispose([x, dy]);
});
