// Resuming a run whose last checkpoint is damaged never silently restarts it: a warning says the
// checkpoint is damaged and why, and the run continues from the best checkpoint at the end of its epoch;
// when the best checkpoint is damaged too, the resume is refused with the user's options and nothing is
// trained or overwritten, and opening the run as a model says the checkpoint is damaged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeSafetensors } from '../../../models/core/safetensors.js';
import { loadRunModel } from '../../../main/services/training/load-run-model.js';
import { readRunRecord, runPath } from '../../../main/services/training/run-folder.js';
import type { TrainingEvent } from '../../../main/services/training/training-events.js';
import {
  resumeTraining,
  startTraining,
  TrainingControl,
  TrainingError,
} from '../../../main/services/training/training-run.js';
import { makeTinyShapes, TINY_SETTINGS } from './tiny-run.js';

const settings = { ...TINY_SETTINGS, epochs: 3 };

/** A run cancelled at the first step of its third epoch (3 steps an epoch). */
async function stoppedRun(dir: string): Promise<string> {
  const data = await makeTinyShapes(join(dir, 'shapes'));
  const runDir = join(dir, 'run');
  const control = new TrainingControl();
  const stopped = await startTraining(
    { ...settings, dataset: data },
    {
      runDir,
      engine: 'onnxruntime',
      control,
      onEvent: (e) => {
        if (e.type === 'step' && e.epoch === 2 && e.step === 1) control.request('cancel');
      },
    },
  );
  assert.equal(stopped.status, 'cancelled');
  return runDir;
}

/** Keeps the first half of a file: what a disk error or a copy cut short leaves. */
async function truncate(path: string): Promise<void> {
  const bytes = await readFile(path);
  await writeFile(path, bytes.subarray(0, Math.floor(bytes.length / 2)));
}

test('a damaged last checkpoint: a warning, then the run continues from the best checkpoint', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'attnvgg-damaged-'));
  try {
    const runDir = await stoppedRun(dir);
    const bestEpoch = Number(
      decodeSafetensors(await readFile(runPath(runDir, 'bestCheckpoint'))).metadata.epoch,
    );
    assert.ok(bestEpoch === 0 || bestEpoch === 1, `best epoch ${bestEpoch}`);
    await truncate(runPath(runDir, 'lastCheckpoint'));

    const events: TrainingEvent[] = [];
    const resumed = await resumeTraining({
      runDir,
      engine: 'onnxruntime',
      onEvent: (e) => events.push(e),
    });
    assert.equal(resumed.status, 'completed');
    const warnings = events.flatMap((e) => (e.type === 'warning' ? [e.message] : []));
    assert.ok(
      warnings.some((w) => /last checkpoint/.test(w) && /damaged/.test(w)),
      warnings.join(' | '),
    );
    assert.ok(
      warnings.some((w) => /best checkpoint/.test(w)),
      warnings.join(' | '),
    );
    const started = events.find((e) => e.type === 'started');
    assert.deepEqual(started?.type === 'started' ? started.resumedAt : null, {
      epoch: bestEpoch + 1,
      stepInEpoch: 0,
    });
    // Not a restart: the first step continues the schedule after the best epoch.
    const firstStep = events.find((e) => e.type === 'step');
    assert.equal(firstStep?.type === 'step' ? firstStep.globalStep : null, (bestEpoch + 1) * 3 + 1);
    const epochs = events.flatMap((e) => (e.type === 'epoch' ? [e.epoch] : []));
    assert.deepEqual(
      epochs,
      Array.from({ length: 2 - bestEpoch }, (_, i) => bestEpoch + 1 + i),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('damaged last and best checkpoints: the resume is refused with the options, nothing trains', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'attnvgg-damaged-both-'));
  try {
    const runDir = await stoppedRun(dir);
    await truncate(runPath(runDir, 'lastCheckpoint'));
    await truncate(runPath(runDir, 'bestCheckpoint'));
    const damagedLast = await readFile(runPath(runDir, 'lastCheckpoint'));
    const events: TrainingEvent[] = [];
    await assert.rejects(
      resumeTraining({ runDir, engine: 'onnxruntime', onEvent: (e) => events.push(e) }),
      (error: unknown) =>
        error instanceof TrainingError &&
        /damaged/.test(error.message) &&
        /Options: restore/.test(error.message) &&
        /start a new run/.test(error.message),
    );
    assert.equal(events.filter((e) => e.type === 'step' || e.type === 'started').length, 0);
    assert.deepEqual(await readFile(runPath(runDir, 'lastCheckpoint')), damagedLast);
    assert.equal((await readRunRecord(runDir)).status, 'cancelled');
    // Opening the run as a model says the checkpoint is damaged, not that no step was trained.
    await assert.rejects(loadRunModel(runDir), /damaged/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
