// The third phase of a comparison (compare-attention.ts): both models exported to ONNX
// (<outDir>/models/{attention,plain}.onnx + .json, export/export-run.ts), then their inference timed on
// the same evaluation pictures, in alternating rounds (inference-timing.ts). Must not import electron or
// anything from main/electron, main/backend, main/server, main/cli or renderer.

import { join } from 'node:path';
import { exportRun, type ExportResult } from '../export/export-run.js';
import type { CompareSession } from './compare-session.js';
import { COMPARE_FILES } from './compare-types.js';
import type { PairEvaluation } from './evaluate-pair.js';
import { timeInference, type InferenceTiming } from './inference-timing.js';
import type { TrainedModel } from './train-pair.js';

/** Exports both runs, attention first. */
export async function exportBoth(session: CompareSession, trained: TrainedModel[]): Promise<ExportResult[]> {
  session.emit({ type: 'phase', phase: 'exporting' });
  const modelsDir = join(session.outDir, COMPARE_FILES.models);
  const exported: ExportResult[] = [];
  for (const t of trained) {
    session.checkStop();
    exported.push(await exportRun(t.runDir, join(modelsDir, `${t.which}.onnx`), { overwrite: true }));
  }
  return exported;
}

/** Times both exported models on up to inferenceImages (default 512) of the evaluated pictures. */
export async function timeBoth(
  session: CompareSession,
  exported: ExportResult[],
  { evalItems, config, runModels }: PairEvaluation,
): Promise<InferenceTiming> {
  const { options } = session;
  session.emit({ type: 'phase', phase: 'timing-inference' });
  const timedItems = evalItems.slice(0, Math.max(1, options.inferenceImages ?? 512));
  const timing = await timeInference(
    exported.map((e) => e.modelPath),
    timedItems,
    {
      inputSize: config.inputSize,
      mean: config.mean,
      std: config.std,
      batch: options.inferenceBatch ?? 32,
      threads: options.inferenceThreads,
      device: runModels[0].record.device,
      rounds: options.inferenceRounds ?? 3,
      shouldStop: session.stopRequested,
    },
  );
  session.checkStop();
  return timing;
}
