// Backend selection (models/tfjs/backend.ts): the fallback order, ATTNVGG_BACKEND, and reasons a user
// can act on. This machine has no GPU and no tfjs-node binary, so the default choice here is wasm.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import {
  BackendError,
  describeBackend,
  explainNativeLoadError,
  parseBackendName,
  selectBackend,
  wasmBinaryDirectory,
} from '../../../../models/tfjs/backend.js';

/** True when @tensorflow/tfjs-node has its native addon, i.e. when 'tensorflow' may legitimately win. */
function nativeAddonPresent(): boolean {
  try {
    const dir = path.dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-node/package.json'));
    const lib = path.join(dir, 'lib');
    return (
      existsSync(lib) && readdirSync(lib).some((d) => existsSync(path.join(lib, d, 'tfjs_binding.node')))
    );
  } catch {
    return false;
  }
}
const nativePresent = nativeAddonPresent();

test(
  'default selection falls back to wasm and says why tensorflow was rejected',
  { skip: nativePresent },
  async () => {
    const report = await selectBackend({ env: {} });
    assert.equal(report.chosen, 'wasm');
    assert.equal(tf.getBackend(), 'wasm');
    const native = report.attempts.filter((a) => a.name.startsWith('tensorflow'));
    assert.deepEqual(
      native.map((a) => a.name),
      ['tensorflow (tfjs-node-gpu)', 'tensorflow (tfjs-node)'],
    );
    for (const attempt of native) {
      assert.equal(attempt.ok, false);
      assert.ok(attempt.reason !== undefined && attempt.reason.length > 10, `no reason for ${attempt.name}`);
    }
    assert.match(native[0].reason ?? '', /CUDA/);
    assert.match(native[1].reason ?? '', /native addon not installed: run `npm run setup:native`/);
    assert.deepEqual(report.attempts.at(-1), { name: 'wasm', ok: true });
    assert.equal(report.threads, 1);
  },
);

test('selectBackend can be called again, with no new warnings', async () => {
  const first = await selectBackend({ env: {} });
  const warnings: unknown[] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => warnings.push(args);
  try {
    const second = await selectBackend({ env: {} });
    assert.equal(second.chosen, first.chosen);
    assert.deepEqual(second.attempts, first.attempts);
  } finally {
    console.warn = warn;
  }
  assert.deepEqual(warnings, []);
  const y = tf.tidy(() =>
    tf.sum(tf.conv2d(tf.ones([1, 4, 4, 2]) as tf.Tensor4D, tf.ones([3, 3, 2, 1]) as tf.Tensor4D, 1, 'same')),
  );
  // Each output sums the in-image part of its 3x3 window over 2 channels: (2+3+3+2)^2 * 2 = 200.
  assert.equal(y.dataSync()[0], 200);
  y.dispose();
});

test('ATTNVGG_BACKEND=cpu forces the cpu backend', async () => {
  const report = await selectBackend({ env: { ATTNVGG_BACKEND: 'cpu' } });
  assert.equal(report.chosen, 'cpu');
  assert.equal(tf.getBackend(), 'cpu');
  assert.deepEqual(report.attempts, [{ name: 'cpu', ok: true }]);
  assert.ok(report.notes.some((n) => n.includes('ATTNVGG_BACKEND=cpu')));
  await selectBackend({ env: {} });
});

test('ATTNVGG_BACKEND wins over prefer; prefer reorders without forcing', async () => {
  assert.equal((await selectBackend({ prefer: 'cpu', env: { ATTNVGG_BACKEND: 'wasm' } })).chosen, 'wasm');
  const preferred = await selectBackend({ prefer: 'cpu', env: {} });
  assert.equal(preferred.chosen, 'cpu');
  assert.deepEqual(preferred.attempts, [{ name: 'cpu', ok: true }]);
  await selectBackend({ env: {} });
});

test('an unknown backend name lists the valid choices', async () => {
  await assert.rejects(selectBackend({ env: { ATTNVGG_BACKEND: 'foo' } }), {
    name: 'BackendError',
    message: 'Unsupported backend "foo". Should be one of: tensorflow, wasm, cpu',
  });
  assert.throws(() => parseBackendName('webgl'), BackendError);
  assert.equal(parseBackendName(' WASM '), 'wasm');
});

test('forcing tensorflow without its native addon is a clear error', { skip: nativePresent }, async () => {
  await assert.rejects(selectBackend({ env: { ATTNVGG_BACKEND: 'tensorflow' } }), (error: Error) => {
    assert.ok(error instanceof BackendError);
    assert.match(
      error.message,
      /^ATTNVGG_BACKEND=tensorflow, but the tensorflow backend could not be loaded: /,
    );
    assert.match(
      error.message,
      /tensorflow \(tfjs-node\): native addon not installed: run `npm run setup:native`/,
    );
    return true;
  });
});

test(
  'CUDA_VISIBLE_DEVICES=-1 is given as the reason to skip tfjs-node-gpu',
  { skip: nativePresent },
  async () => {
    const report = await selectBackend({ env: { CUDA_VISIBLE_DEVICES: '-1' } });
    assert.match(report.attempts[0].reason ?? '', /CUDA disabled by CUDA_VISIBLE_DEVICES="-1"/);
  },
);

test('native load failures are explained in words a user can act on', () => {
  const gpu = '@tensorflow/tfjs-node-gpu';
  assert.equal(
    explainNativeLoadError(
      gpu,
      new Error('libcudart.so.11.0: cannot open shared object file: No such file or directory'),
    ),
    'CUDA device present but libcudart.so.11.0 could not be loaded: tfjs-node-gpu 4.x needs CUDA 11.2 and cuDNN 8.1',
  );
  assert.match(
    explainNativeLoadError(gpu, new Error('libcudnn.so.8: cannot open shared object file')),
    /libcudnn\.so\.8/,
  );
  assert.equal(
    explainNativeLoadError(
      '@tensorflow/tfjs-node',
      new Error(
        'The Node.js native addon module (tfjs_binding.node) can not be found at path: /x/lib/napi-v8/',
      ),
    ),
    'native addon not installed: run `npm run setup:native`',
  );
  assert.match(
    explainNativeLoadError(
      '@tensorflow/tfjs-node',
      new Error('libtensorflow.so.2: cannot open shared object file'),
    ),
    /^libtensorflow\.so\.2 could not be loaded .*npm run setup:native/,
  );
  const missing = Object.assign(new Error("Cannot find package '@tensorflow/tfjs-node-gpu'"), {
    code: 'ERR_MODULE_NOT_FOUND',
  });
  assert.equal(explainNativeLoadError(gpu, missing), `${gpu} is not installed: run \`npm run setup:native\``);
  assert.equal(explainNativeLoadError(gpu, new Error('boom\nstack')), `${gpu} failed to load: boom`);
});

test('describeBackend prints the choice, every attempt and the notes', async () => {
  const report = await selectBackend({ env: {} });
  const text = describeBackend(report);
  const lines = text.split('\n');
  assert.match(lines[0], new RegExp(`^TensorFlow.js backend: ${report.chosen}`));
  for (const attempt of report.attempts) assert.ok(text.includes(attempt.name));
  for (const note of report.notes) assert.ok(text.includes(note));
  assert.ok(lines.length >= report.attempts.length + 2);
});

test('the wasm binaries are found through the package', () => {
  const dir = wasmBinaryDirectory();
  assert.ok(existsSync(path.join(dir, 'tfjs-backend-wasm-simd.wasm')), dir);
});
