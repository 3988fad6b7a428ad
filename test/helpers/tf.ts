// Test helpers for TensorFlow.js code: a fixed backend and comparisons by relative error
// (max|a - b| / max|b|, the measure every parity requirement in docs/architecture.md uses).
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';

export async function useCpuBackend(): Promise<void> {
  tf.env().set('PROD', true); // no "install our node backend" hint in test output
  await tf.setBackend('cpu');
  await tf.ready();
}

export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return scale === 0 ? diff : diff / scale;
}

export function randomInput(n: number, s: number, seed: number): tf.Tensor4D {
  return tf.randomNormal([n, s, s, 3], 0, 1, 'float32', seed) as tf.Tensor4D;
}
