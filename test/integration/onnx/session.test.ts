// The onnxruntime wrapper: runs a model from bytes or a path, honours the thread option, and reports
// every refusal (bad model, unknown input or output, wrong shape) as an OnnxError of kind 'runtime'.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OnnxError } from '../../../models/onnx/errors.js';
import { encodeModel } from '../../../models/onnx/proto.js';
import { openOnnxSession } from '../../../models/onnx/session.js';
import { tinyModel } from '../../unit/models/onnx/onnx-fixtures.js';

const runtimeError = (e: unknown) => e instanceof OnnxError && e.kind === 'runtime';

test('runs the tiny model from bytes and from a file, with one or two threads', async () => {
  const bytes = encodeModel(tinyModel());
  const dir = mkdtempSync(join(tmpdir(), 'attnvgg-session-'));
  try {
    const path = join(dir, 'tiny.onnx');
    writeFileSync(path, bytes);
    for (const [model, threads] of [
      [bytes, 1],
      [path, 2],
    ] as const) {
      const session = await openOnnxSession(model, { intraOpThreads: threads });
      assert.deepEqual(session.inputNames, ['x']);
      assert.deepEqual(session.outputNames, ['y']);
      const out = await session.run({ shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) });
      assert.deepEqual(out.y.shape, [2, 2]);
      assert.deepEqual([...out.y.data], [2.5, 0, 4.5, 2]);
      await session.release();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('refusals are OnnxErrors of kind runtime', async () => {
  await assert.rejects(openOnnxSession(new Uint8Array([1, 2, 3])), runtimeError);
  await assert.rejects(openOnnxSession(encodeModel(tinyModel()), { intraOpThreads: 0 }), runtimeError);
  const session = await openOnnxSession(encodeModel(tinyModel()));
  try {
    const x = { shape: [1, 2], data: new Float32Array(2) };
    await assert.rejects(
      session.run(x, { inputName: 'nope' }),
      (e: unknown) => runtimeError(e) && /Should be one of: x/.test(String(e)),
    );
    await assert.rejects(session.run(x, { outputs: ['z'] }), runtimeError);
    await assert.rejects(session.run({ shape: [1, 3], data: new Float32Array(3) }), runtimeError);
  } finally {
    await session.release();
  }
});
