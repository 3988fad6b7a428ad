// Tasks in their own worker thread: an export of a folder that is not a run fails with the reason in
// plain words (not a stack trace), and a classification of a missing model does too.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runTask, TaskError } from '../../../../main/services/jobs/index.js';

test('a failing export or classification rejects with a TaskError in plain words', async () => {
  const dir = await mkdtemp(join(os.tmpdir(), 'attnvgg-task-'));
  try {
    const exporting = runTask({
      kind: 'export',
      runDir: join(dir, 'not-a-run'),
      modelPath: join(dir, 'model.onnx'),
      overwrite: false,
    });
    const error = await exporting.done.then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(error instanceof TaskError, String(error));
    assert.match(error.message, /not-a-run/);
    assert.doesNotMatch(error.message, /\n\s+at /, 'no stack trace');

    const progress: unknown[] = [];
    const classifying = runTask(
      {
        kind: 'classify',
        modelPath: join(dir, 'missing.onnx'),
        inputs: [dir],
        outDir: join(dir, 'out'),
        options: { heatmaps: false, level: 'combined', colormap: 'turbo', opacity: 0.5, threshold: 0 },
        saveEverySeconds: 1,
      },
      (p) => progress.push(p),
    );
    await assert.rejects(
      classifying.done,
      (e: unknown) => e instanceof TaskError && /missing/.test(e.message),
    );
    assert.deepEqual(progress, []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
