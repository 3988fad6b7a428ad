// Stopping a run mid-epoch and resuming it gives exactly the weights of a run that was never stopped,
// and the run folder holds what it documents.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateShapesDataset } from '../../../main/services/sample/index.js';
import { loadCheckpoint } from '../../../main/services/training/checkpoint.js';
import { loadRunModel } from '../../../main/services/training/load-run-model.js';
import { readRunRecord, runPath } from '../../../main/services/training/run-folder.js';
import type { TrainingConfig } from '../../../main/services/training/training-config.js';
import {
  resumeTraining,
  startTraining,
  TrainingControl,
  TrainingError,
} from '../../../main/services/training/training-run.js';
import type { TrainingEvent } from '../../../main/services/training/training-events.js';

const settings: Partial<TrainingConfig> = {
  inputSize: 32,
  width: 0.0625,
  epochs: 2,
  batchSize: 8,
  optimizer: 'sgd',
  lr: 0.02,
  seed: 5,
  augment: { flip: true, translate: 0.1 },
};

test('a run stopped mid-epoch resumes to exactly the weights of an uninterrupted run', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'attnvgg-resume-'));
  try {
    const data = join(dir, 'shapes');
    await generateShapesDataset(data, {
      classes: 2,
      size: 32,
      counts: { train: 12, val: 4, test: 4 },
      seed: 3,
    });
    const straight = await startTraining({ ...settings, dataset: data }, { runDir: join(dir, 'straight') });
    assert.equal(straight.status, 'completed');

    const control = new TrainingControl();
    const events: TrainingEvent[] = [];
    const stopped = await startTraining(
      { ...settings, dataset: data },
      {
        runDir: join(dir, 'stopped'),
        control,
        onEvent: (e) => {
          events.push(e);
          if (e.type === 'step' && e.epoch === 1 && e.step === 1) control.request('cancel');
        },
      },
    );
    assert.equal(stopped.status, 'cancelled');
    const checkpoint = await loadCheckpoint(runPath(join(dir, 'stopped'), 'lastCheckpoint'));
    assert.deepEqual([checkpoint.position.epoch, checkpoint.position.stepInEpoch], [1, 1]);
    assert.equal((await readRunRecord(join(dir, 'stopped'))).status, 'cancelled');

    const resumedEvents: TrainingEvent[] = [];
    const resumed = await resumeTraining({
      runDir: join(dir, 'stopped'),
      onEvent: (e) => resumedEvents.push(e),
    });
    assert.equal(resumed.status, 'completed');
    const started = resumedEvents.find((e) => e.type === 'started');
    assert.deepEqual(started && 'resumedAt' in started ? started.resumedAt : null, {
      epoch: 1,
      stepInEpoch: 1,
    });

    const a = await loadRunModel(join(dir, 'straight'));
    const b = await loadRunModel(join(dir, 'stopped'));
    for (const [name, w] of a.weights) assert.deepEqual(b.weights.get(name)?.data, w.data, name);
    const evaluation = JSON.parse(await readFile(runPath(join(dir, 'stopped'), 'evaluation'), 'utf8'));
    assert.equal(evaluation.metrics.total, 8);
    await assert.rejects(resumeTraining({ runDir: join(dir, 'stopped') }), TrainingError);
    await assert.rejects(
      startTraining({ ...settings, dataset: data }, { runDir: join(dir, 'stopped') }),
      /already holds a run/,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a folder that cannot be trained on is refused with the reason', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'attnvgg-bad-dataset-'));
  try {
    const data = join(dir, 'one-class');
    await generateShapesDataset(data, {
      classes: 2,
      size: 32,
      counts: { train: 3, val: 0, test: 0 },
      seed: 1,
    });
    await rm(join(data, 'train', 'square'), { recursive: true });
    await assert.rejects(
      startTraining({ ...settings, dataset: data }, { runDir: join(dir, 'run') }),
      (error: Error) => {
        assert.ok(error instanceof TrainingError);
        assert.match(error.message, /class/i);
        return true;
      },
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('early stopping ends a run whose validation accuracy stops improving', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'attnvgg-early-'));
  try {
    const data = join(dir, 'shapes');
    await generateShapesDataset(data, {
      classes: 2,
      size: 32,
      counts: { train: 8, val: 2, test: 2 },
      seed: 4,
    });
    // A learning rate this small cannot lift validation accuracy much; patience 1 must stop the run
    // long before its 20 epochs.
    const events: TrainingEvent[] = [];
    const result = await startTraining(
      { ...settings, dataset: data, epochs: 20, lr: 1e-9, schedule: 'constant', earlyStoppingPatience: 1 },
      { runDir: join(dir, 'run'), onEvent: (e) => events.push(e) },
    );
    assert.equal(result.status, 'stopped-early');
    const epochs = events.filter((e) => e.type === 'epoch');
    assert.ok(epochs.length < 20, `${epochs.length} epochs`);
    const last = epochs[epochs.length - 1];
    assert.ok(last.type === 'epoch' && !last.improved);
    assert.ok(JSON.parse(await readFile(runPath(join(dir, 'run'), 'evaluation'), 'utf8')).metrics.total > 0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
