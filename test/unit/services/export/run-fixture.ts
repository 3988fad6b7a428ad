// A run folder without training, for export and classification tests that do not need a trained model:
// run.json, best weights drawn at random (BatchNorm statistics too, so folding is exercised), and
// optionally an evaluation.json.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createRandom } from '../../../../models/core/random.js';
import { encodeSafetensors } from '../../../../models/core/safetensors.js';
import type { ModelSpec } from '../../../../models/core/spec.js';
import { initWeights } from '../../../../models/core/weights.js';
import { runPath, writeRunRecord, type RunRecord } from '../../../../main/services/training/run-folder.js';
import { resolveConfig } from '../../../../main/services/training/training-config.js';

export async function makeRandomRun(
  runDir: string,
  spec: ModelSpec,
  classes: string[],
  options: { seed?: number; accuracy?: number } = {},
): Promise<RunRecord> {
  await mkdir(join(runDir, 'checkpoints'), { recursive: true });
  const random = createRandom(options.seed ?? 1);
  const weights = initWeights(spec, random);
  for (const [name, a] of weights) {
    if (name.endsWith('running_mean')) a.data.forEach((_, i) => (a.data[i] = 0.1 * random.normal()));
    if (name.endsWith('running_var')) a.data.forEach((_, i) => (a.data[i] = 0.5 + random.next()));
  }
  await writeFile(runPath(runDir, 'bestCheckpoint'), encodeSafetensors(weights));
  const config = resolveConfig({
    dataset: '/nowhere',
    inputSize: spec.inputSize,
    width: spec.width,
    mean: [0.5, 0.4, 0.3],
    std: [0.25, 0.2, 0.15],
  });
  const record: RunRecord = {
    format: 'attnvgg-run/1',
    id: 'run-test',
    status: 'completed',
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    config,
    spec,
    classes,
    datasetFingerprint: 'f'.repeat(64),
    backend: 'cpu',
    appVersion: '0.0.1',
  };
  await writeRunRecord(runDir, record);
  if (options.accuracy !== undefined)
    await writeFile(
      runPath(runDir, 'evaluation'),
      JSON.stringify({
        format: 'attnvgg-evaluation/1',
        split: 'test',
        metrics: { accuracy: options.accuracy, total: 8 },
      }),
    );
  return record;
}

export const TINY_SPEC: ModelSpec = {
  inputSize: 32,
  width: 0.0625,
  numClasses: 3,
  attention: true,
  compatibility: 'pc',
  normalisation: 'softmax',
};
