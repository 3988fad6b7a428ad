// Batch classification with an exported model (`attnvgg classify`): folders walked recursively, every
// picture decoded and normalised exactly as in training (the settings come from the model's sidecar and
// go through the one image module, images/decode-image.ts + normalise.ts), the model file is checked by our
// own reader against the sidecar before the runtime loads it (check-model.ts), batches run on onnxruntime-node
// in a worker thread while the main thread decodes the next batch and writes the previous one's outputs:
// top-k labels, optional heat-map overlays and raw maps, optional sorting into per-class folders.
// A file that cannot be read is a row with a reason, never a failure of the run. The input is streamed
// (input-source.ts: folders in a stable walk, or a --files-from list; one shard of it, up to a limit) in
// units of one batch (batch-units.ts); each unit's rows are appended to results.jsonl and results.csv in
// input order (result-files.ts) and summary.json is rewritten every few seconds and at the end; with
// `resume` the earlier rows are streamed in step and the unchanged files are not classified again
// (run-results.ts, resume-results.ts).
// The run goes through phases of their own modules: the options resolved (classify-setup.ts, options
// in classify-options.ts), the input, results and model opened (open-classify-run.ts), the batches
// (classify-batches.ts: decoded by decode-batch.ts, answered by batch-rows.ts with the per-image files
// of image-outputs.ts; progress by classify-progress.ts), and the end written here. Must not import
// electron or anything from main/electron, main/backend, main/server, main/cli or renderer.

import { join } from 'node:path';
import { classifyBatches } from './classify-batches.js';
import type { ClassifyOptions, ClassifyOutcome } from './classify-options.js';
import { progressReporter } from './classify-progress.js';
import { resolveClassifySetup, type ClassifySetup } from './classify-setup.js';
import type { InputSpec } from './input-source.js';
import { openClassifyRun } from './open-classify-run.js';
import { RESULTS_JSONL, SUMMARY_JSON } from './result-files.js';
import { RESULTS_CSV } from './results.js';
import type { RunResults } from './run-results.js';

// The options, progress, outcome, error and defaults of classifyFolder.
export * from './classify-options.js';
export type { ModelSidecar } from '../export/sidecar.js';

/** The outcome of a run whose batches ended (finished or cancelled), with its summary written. */
async function finishedOutcome(
  setup: ClassifySetup,
  run: RunResults,
  cancelled: boolean,
  progress: () => void,
): Promise<ClassifyOutcome> {
  const summary = await run.end(!cancelled);
  progress();
  const { out } = setup;
  return {
    status: cancelled ? 'cancelled' : 'completed',
    outDir: out,
    rowsPath: join(out, RESULTS_JSONL),
    csvPath: join(out, RESULTS_CSV),
    summaryPath: join(out, SUMMARY_JSON),
    summary,
  };
}

/**
 * Classifies every image of `inputs` (folders, recursively, and files; or a `--files-from` list) with
 * the exported model at `modelPath` (its sidecar beside it), appending results.jsonl and results.csv in
 * `outDir` and keeping summary.json there, plus the optional outputs. Throws ClassifyError, SidecarError,
 * ModelFileError or InputError for unusable arguments; files that cannot be read are rows with a reason.
 */
export async function classifyFolder(
  modelPath: string,
  inputs: readonly string[] | InputSpec,
  outDir: string,
  options: ClassifyOptions = {},
): Promise<ClassifyOutcome> {
  const started = performance.now();
  const setup = await resolveClassifySetup(modelPath, inputs, outDir, options);
  const opened = await openClassifyRun(setup);
  const progress = progressReporter(opened.run, opened.total, started, options.onProgress);
  const { cancelled, failure } = await classifyBatches(setup, opened, progress);
  await opened.runner.close();
  if (failure) {
    await opened.run.end(false).catch(() => undefined);
    throw failure.error;
  }
  return finishedOutcome(setup, opened.run, cancelled, progress);
}
