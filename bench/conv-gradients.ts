// Benchmark, run by hand: GFLOP/s of the wasm backend's forward Conv2D and of the two convolution
// gradients (models/tfjs/wasm-conv-gradients.ts), against the package's own Conv2DBackpropInput.
//   node --import tsx bench/conv-gradients.ts [--repeat 5] [--batch 16] [--size 32] [--channels 64]
// Prints one JSON object. Imports tfjs and models/tfjs only.

import * as tf from '@tensorflow/tfjs-core';
import { Conv2DBackpropFilter, Conv2DBackpropInput, getKernel } from '@tensorflow/tfjs-core';
import type { KernelConfig } from '@tensorflow/tfjs-core';
import { selectBackend } from '../models/tfjs/backend.js';
import { registerWasmConvGradients } from '../models/tfjs/wasm-conv-gradients.js';

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const repeat = option('repeat', 5);
const batch = option('batch', 16);
const size = option('size', 32);
const channels = option('channels', 64);
const kernel = 3;

/** Median wall time in ms of `run` (after one warm-up), reading the result back so the work is done. */
function time(run: () => tf.Tensor): number {
  const samples: number[] = [];
  for (let i = 0; i <= repeat; i++) {
    const start = performance.now();
    const out = run();
    out.dataSync();
    const ms = performance.now() - start;
    out.dispose();
    if (i > 0) samples.push(ms);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

// The package's Conv2DBackpropInput, kept to compare against before ours replaces it.
const packageBackpropInput: KernelConfig | undefined = getKernel(Conv2DBackpropInput, 'wasm');
const savedPackageKernel = packageBackpropInput === undefined ? undefined : { ...packageBackpropInput };

const report = await selectBackend({ prefer: 'wasm', env: {} });
if (report.chosen !== 'wasm') throw new Error(`Expected the wasm backend, got ${report.chosen}`);

const x = tf.randomNormal([batch, size, size, channels], 0, 1, 'float32', 1) as tf.Tensor4D;
const w = tf.randomNormal([kernel, kernel, channels, channels], 0, 0.1, 'float32', 2) as tf.Tensor4D;
const dy = tf.randomNormal([batch, size, size, channels], 0, 1, 'float32', 3) as tf.Tensor4D;
const attrs = { strides: 1, pad: 'same' as const, dataFormat: 'NHWC' as const };
// Multiply-adds count twice: 2 * N * H * W * Cout * KH * KW * Cin, the same for all three.
const flop = 2 * batch * size * size * channels * kernel * kernel * channels;
const gflops = (ms: number): number => Number((flop / (ms * 1e6)).toFixed(2));

const forwardMs = time(() => tf.conv2d(x, w, 1, 'same'));
const inputMs = time(
  () =>
    tf
      .engine()
      .runKernel(Conv2DBackpropInput, { dy, filter: w }, { ...attrs, inputShape: x.shape }) as tf.Tensor,
);
const filterMs = time(
  () =>
    tf.engine().runKernel(Conv2DBackpropFilter, { x, dy }, { ...attrs, filterShape: w.shape }) as tf.Tensor,
);

let packageInputMs: number | undefined;
if (savedPackageKernel !== undefined) {
  tf.unregisterKernel(Conv2DBackpropInput, 'wasm');
  tf.registerKernel(savedPackageKernel);
  // It was unregistered before the backend started, so its setup (binding the C function) never ran.
  savedPackageKernel.setupFunc?.(tf.backend());
  packageInputMs = time(
    () =>
      tf
        .engine()
        .runKernel(Conv2DBackpropInput, { dy, filter: w }, { ...attrs, inputShape: x.shape }) as tf.Tensor,
  );
  registerWasmConvGradients();
}

console.log(
  JSON.stringify(
    {
      backend: report.chosen,
      threads: report.threads,
      convolution: `${batch}x${size}x${size}x${channels} -> ${channels}, ${kernel}x${kernel} same`,
      gflop: Number((flop / 1e9).toFixed(3)),
      repeat,
      ms: {
        forward: forwardMs,
        inputGradient: inputMs,
        filterGradient: filterMs,
        packageInputGradient: packageInputMs,
      },
      gflopPerSecond: {
        forward: gflops(forwardMs),
        inputGradient: gflops(inputMs),
        filterGradient: gflops(filterMs),
        packageInputGradient: packageInputMs === undefined ? undefined : gflops(packageInputMs),
      },
    },
    null,
    2,
  ),
);
tf.dispose([x, w, dy]);
