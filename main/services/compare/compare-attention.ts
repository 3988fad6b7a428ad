// "Does attention help on my data?": trains the attention model and the plain VGG16_bn head (attention
// off) on the same folder, split, seed, preset and budget, one after the other, through the training
// service's public API (startTraining, run folders); then evaluates both on the same images, runs
// McNemar's paired test, exports both to ONNX and times them, explains a sample of pictures with both
// (attention maps vs Grad-CAM), plays the pointing game where the dataset has boxes, and writes
// compare.json (checked against compare-report.ts) and a self-contained compare.html, atomically.
// Progress comes as CompareEvents; a TrainingControl stops it at the next step boundary.
// This module is the driver; each phase has its own: train-pair.ts, evaluate-pair.ts, export-and-time.ts,
// explain-pair.ts and write-compare-report.ts, sharing a CompareSession (compare-session.ts); the options,
// events and result are in compare-types.ts.
// Must not import electron or anything from main/electron, main/backend, main/server, main/cli or renderer.
//
//   <outDir>/attention/, <outDir>/plain/   the two run folders (resumable with `attnvgg resume`)
//   <outDir>/models/{attention,plain}.onnx + .json   the exported models
//   <outDir>/explanations/*.png           pictures and overlays shown in the report
//   <outDir>/compare.json, compare.html   the report

import { access, mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { resolveConfig } from '../training/training-config.js';
import { createCompareSession, wasCancelled, type CompareSession } from './compare-session.js';
import {
  COMPARE_FILES,
  CompareError,
  type CompareOptions,
  type CompareResult,
  type CompareRunOptions,
} from './compare-types.js';
import { evaluateBoth } from './evaluate-pair.js';
import { explainBoth } from './explain-pair.js';
import { exportBoth, timeBoth } from './export-and-time.js';
import { trainBoth } from './train-pair.js';
import { writeCompareReport } from './write-compare-report.js';

// The options, events, result and error, exported from here as before the phases moved out.
export * from './compare-types.js';

/**
 * Runs the whole comparison into `run.outDir` (created; refused if it already holds one). Resolves with
 * status 'cancelled' (no report) when run.control asks to stop; throws CompareError, TrainingError,
 * ConfigError and the like with plain-words messages.
 */
export async function compareAttention(
  folder: string,
  options: CompareOptions,
  run: CompareRunOptions,
): Promise<CompareResult> {
  const outDir = resolve(run.outDir);
  const dataset = resolve(folder);
  await prepareOutDir(outDir, options);
  const session = createCompareSession(outDir, dataset, options, run);
  // Checks the settings before anything trains, and gives the planned epochs for the first event.
  const planned = resolveConfig({ ...options.training, dataset }, options.preset);
  try {
    const trained = await trainBoth(session, planned);
    const evaluated = await evaluateBoth(session, trained);
    const exported = await exportBoth(session, trained);
    const timing = await timeBoth(session, exported, evaluated);
    const explained = await explainBoth(session, evaluated);
    const { report, reportPath, htmlPath } = await writeCompareReport(session, {
      trained,
      evaluated,
      exported,
      timing,
      explained,
    });
    const { verdict } = evaluated;
    session.emit({
      type: 'finished',
      status: 'completed',
      message: verdict.text,
      reportPath,
      htmlPath,
      verdict,
    });
    return { status: 'completed', outDir, report, reportPath, htmlPath };
  } catch (error) {
    return endEarly(session, error);
  }
}

/** Checks the time limit, refuses a folder that already holds a comparison, and makes the folder. */
async function prepareOutDir(outDir: string, options: CompareOptions): Promise<void> {
  if (options.timeLimitSeconds !== undefined && !(options.timeLimitSeconds > 0))
    throw new CompareError(
      `The time limit must be a positive number of seconds, got ${options.timeLimitSeconds}.`,
    );
  for (const name of ['attention', 'plain', COMPARE_FILES.report])
    if (await exists(join(outDir, name)))
      throw new CompareError(`${outDir} already holds a comparison (${name}); choose another folder.`);
  await mkdir(outDir, { recursive: true });
}

/** A stopped comparison resolves as 'cancelled'; a failed one says so and throws the error on. */
function endEarly(session: CompareSession, error: unknown): CompareResult {
  if (wasCancelled(error)) {
    const message =
      'The comparison was stopped; no report was written. The run folders keep their checkpoints.';
    session.emit({ type: 'finished', status: 'cancelled', message });
    return { status: 'cancelled', outDir: session.outDir };
  }
  session.emit({ type: 'finished', status: 'failed', message: (error as Error).message });
  throw error;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
