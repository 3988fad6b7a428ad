// A training process for the crash-safety test to kill: starts a tiny run in <runDir> on <dataset>, or
// resumes it when the folder already holds one, and prints every training event as one JSON line on
// stdout (pipes are written synchronously on Linux, so a line printed was really reached).
//   node --import tsx test/reliability/train-child.ts <runDir> <dataset>
// Test code only.
import { readRunRecord } from '../../main/services/training/run-folder.js';
import type { TrainingConfig } from '../../main/services/training/training-config.js';
import { resumeTraining, startTraining } from '../../main/services/training/training-run.js';
import type { TrainingEvent } from '../../main/services/training/training-events.js';

export const CRASH_RUN_SETTINGS: Partial<TrainingConfig> = {
  inputSize: 32,
  width: 0.0625,
  epochs: 3,
  batchSize: 4,
  lr: 0.02,
  seed: 7,
  checkpointEverySteps: 1,
  keepMisclassifiedMaps: 2,
};

const [runDir, dataset] = process.argv.slice(2);
const print = (line: object): void => {
  process.stdout.write(`${JSON.stringify(line)}\n`);
};
const onEvent = (event: TrainingEvent): void => print(event);

if (runDir && dataset) {
  const existing = await readRunRecord(runDir).catch(() => null);
  if (existing && (existing.status === 'completed' || existing.status === 'stopped-early')) {
    print({ type: 'already-finished', status: existing.status });
  } else {
    const result = existing
      ? await resumeTraining({ runDir, onEvent, backend: 'wasm' })
      : await startTraining({ ...CRASH_RUN_SETTINGS, dataset }, { runDir, onEvent, backend: 'wasm' });
    print({ type: 'result', status: result.status });
  }
}
