// Stopping a run mid-epoch and resuming it gives exactly the weights of a run that was never stopped, on
// either engine, and the run folder holds what it documents. Exactly means bitwise on onnxruntime too,
// with its default 2 intra-op threads here: MLAS splits work by a fixed partition of the outputs, and a
// probe (S=64 w=0.25 b=32, 3 Adam steps, 4 fresh trainers, load 6) found all 1,003,098 values identical.
// A checkpoint of one engine resumes on the other (training-engine.ts): the first step after resuming
// matches the step the first engine takes from the same checkpoint (loss, optimizer step, Adam moments).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateShapesDataset } from '../../../main/services/sample/index.js';
import { loadCheckpoint, type Checkpoint } from '../../../main/services/training/checkpoint.js';
import { loadRunModel } from '../../../main/services/training/load-run-model.js';
import { readRunRecord, runPath } from '../../../main/services/training/run-folder.js';
import { ENGINE_NAMES, type EngineName } from '../../../main/services/training/training-engine.js';
import { relativeError } from '../../helpers/tf.js';
import { zeroGradientNames } from '../onnx-train/engines.js';
import { makeTinyShapes, TINY_SETTINGS } from './tiny-run.js';
import {
  resumeTraining,
  startTraining,
  TrainingControl,
  TrainingError,
} from '../../../main/services/training/training-run.js';
import type { TrainingEvent } from '../../../main/services/training/training-events.js';

const settings = TINY_SETTINGS;

for (const engine of ENGINE_NAMES)
  test(`${engine}: a run stopped mid-epoch resumes to exactly the weights of an uninterrupted run`, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'attnvgg-resume-'));
    try {
      const data = join(dir, 'shapes');
      await makeTinyShapes(data);
      const straight = await startTraining(
        { ...settings, dataset: data },
        { runDir: join(dir, 'straight'), engine },
      );
      assert.equal(straight.status, 'completed');

      const control = new TrainingControl();
      const events: TrainingEvent[] = [];
      // Checkpoints every step as well: the weights must not depend on it.
      const stopped = await startTraining(
        { ...settings, checkpointEverySteps: 1, dataset: data },
        {
          runDir: join(dir, 'stopped'),
          engine,
          control,
          onEvent: (e) => {
            events.push(e);
            if (e.type === 'step' && e.epoch === 1 && e.step === 1) control.request('cancel');
          },
        },
      );
      assert.equal(stopped.status, 'cancelled');
      // 24 images in batches of 8: steps 1-3 of epoch 1, the epoch's end, the stop at epoch 2 step 1.
      assert.equal(events.filter((e) => e.type === 'checkpoint').length, 5);
      const checkpoint = await loadCheckpoint(runPath(join(dir, 'stopped'), 'lastCheckpoint'));
      assert.deepEqual([checkpoint.position.epoch, checkpoint.position.stepInEpoch], [1, 1]);
      assert.equal((await readRunRecord(join(dir, 'stopped'))).status, 'cancelled');

      const resumedEvents: TrainingEvent[] = [];
      const resumed = await resumeTraining({
        runDir: join(dir, 'stopped'),
        engine,
        onEvent: (e) => resumedEvents.push(e),
      });
      assert.equal(resumed.status, 'completed');
      const started = resumedEvents.find((e) => e.type === 'started');
      assert.equal(started?.type === 'started' ? started.engine : null, engine);
      const record = await readRunRecord(join(dir, 'stopped'));
      assert.equal(record.engine, engine);
      assert.equal(
        record.backend,
        engine === 'onnxruntime' ? 'onnxruntime' : started?.type === 'started' && started.backend,
      );
      assert.ok(
        (record.engineReasons ?? []).some((r) => r.includes('forced')),
        String(record.engineReasons),
      );
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

async function resumeOneStep(
  runDir: string,
  engine: EngineName,
): Promise<{ loss: number; checkpoint: Checkpoint; started: TrainingEvent | undefined }> {
  const control = new TrainingControl();
  let loss = Number.NaN;
  let started: TrainingEvent | undefined;
  const result = await resumeTraining({
    runDir,
    engine,
    control,
    onEvent: (e) => {
      if (e.type === 'started') started = e;
      if (e.type === 'step') {
        loss = e.loss;
        control.request('pause');
      }
    },
  });
  assert.equal(result.status, 'paused');
  return { loss, checkpoint: await loadCheckpoint(runPath(runDir, 'lastCheckpoint')), started };
}

for (const [first, second] of [
  ['tfjs', 'onnxruntime'],
  ['onnxruntime', 'tfjs'],
] as const)
  test(`an Adam run started on ${first} resumes on ${second}`, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'attnvgg-cross-engine-'));
    try {
      const data = join(dir, 'shapes');
      await makeTinyShapes(data);
      const adam = { ...settings, optimizer: 'adam' as const, lr: 0.002, weightDecay: 5e-4, dataset: data };
      const control = new TrainingControl();
      const runDir = join(dir, 'run');
      const stopped = await startTraining(adam, {
        runDir,
        engine: first,
        control,
        onEvent: (e) => {
          if (e.type === 'step' && e.epoch === 1 && e.step === 1) control.request('cancel');
        },
      });
      assert.equal(stopped.status, 'cancelled');
      const saved = await loadCheckpoint(runPath(runDir, 'lastCheckpoint'));
      const copy = join(dir, 'copy');
      await cp(runDir, copy, { recursive: true });
      // The same next step from the same checkpoint, on the first engine and on the second.
      const same = await resumeOneStep(copy, first);
      const other = await resumeOneStep(runDir, second);
      assert.equal(other.started?.type === 'started' && other.started.engine, second);
      assert.ok(
        Math.abs(other.loss - same.loss) < 1e-5 * same.loss,
        `loss ${other.loss} on ${second} vs ${same.loss} on ${first}`,
      );
      assert.equal(other.checkpoint.optimizer.step, saved.optimizer.step + 1);
      assert.equal(same.checkpoint.optimizer.step, saved.optimizer.step + 1);
      const keys = [...same.checkpoint.optimizer.slots.keys()].sort();
      assert.deepEqual([...other.checkpoint.optimizer.slots.keys()].sort(), keys);
      assert.ok(keys.some((k) => k.startsWith('v/')));
      // m' = b1 m + (1 - b1) g: a first moment that was not carried over would be off by b1 m.
      const zero = zeroGradientNames((await readRunRecord(runDir)).spec);
      for (const key of keys.filter((k) => k.startsWith('m/'))) {
        if (zero.has(key.slice(2))) continue;
        const err = relativeError(
          other.checkpoint.optimizer.slots.get(key)!.data,
          same.checkpoint.optimizer.slots.get(key)!.data,
        );
        assert.ok(err < 3e-4, `${key} differs by ${err}`);
      }
      assert.deepEqual(other.checkpoint.position, {
        ...same.checkpoint.position,
        trainSeconds: other.checkpoint.position.trainSeconds,
      });
      // And the run finishes on the second engine.
      const done = await resumeTraining({ runDir, engine: second });
      assert.equal(done.status, 'completed');
      assert.equal(done.record.engine, second);
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
