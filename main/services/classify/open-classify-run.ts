// The opening phase of a classification (classify-folder.ts): the input counted ahead (so a missing
// input is refused before anything is written, and the progress has a total), the output folder made,
// the input opened as a stream (one shard, up to the limit), the results files started (afresh or beside
// the earlier ones with `resume`), and the model opened on onnxruntime. Must not import electron or
// anything from main/electron, main/backend, main/server, main/cli or renderer.

import { mkdir } from 'node:fs/promises';
import type { ClassifySetup } from './classify-setup.js';
import { expectationsOf } from './check-model.js';
import { STDIN_LIST } from './file-list.js';
import { openInference, type InferenceRunner } from './inference-runner.js';
import { openInputs, planInputs, type InputStream } from './input-source.js';
import { RunResults } from './run-results.js';

/**
 * The model on onnxruntime, opened once: at the start when the input is known to hold files, else when
 * the first batch needs it (a list on standard input is not counted ahead).
 */
export class ModelRunner {
  private runner: InferenceRunner | null = null;

  constructor(private readonly setup: ClassifySetup) {}

  async get(): Promise<InferenceRunner> {
    this.runner ??= await openInference(this.setup.resolvedModelPath, {
      threads: this.setup.threads,
      worker: this.setup.options.worker,
      expect: expectationsOf(this.setup.sidecar),
      device: this.setup.options.device,
    });
    return this.runner;
  }

  async close(): Promise<void> {
    await this.runner?.close();
  }
}

/** A classification ready for its first batch. */
export interface OpenedRun {
  input: InputStream;
  run: RunResults;
  runner: ModelRunner;
  /** Files of this run's input (its shard, up to its limit); null when not counted ahead. */
  total: number | null;
}

/** Opens the input, the results and the model; on failure what was opened is closed again. */
export async function openClassifyRun(setup: ClassifySetup): Promise<OpenedRun> {
  const { options, spec, out, sortRoot } = setup;
  const shard = options.shard ?? null;
  const limit = options.limit ?? null;
  const exclude = sortRoot ? [out, sortRoot] : [out];
  const plan = spec.list === STDIN_LIST ? null : await planInputs(spec, exclude, shard?.count ?? 1, limit);
  const total = plan ? plan.shards[shard?.index ?? 0].files : null;
  await mkdir(out, { recursive: true });
  const input = openInputs(spec, exclude, shard, limit);
  const run = await RunResults.open(
    out,
    setup.modelPath,
    setup.sidecar,
    setup.settings,
    input,
    plan,
    options.resume ?? false,
  );
  const runner = new ModelRunner(setup);
  try {
    if (total !== 0) await runner.get();
    await run.begin();
  } catch (error) {
    await runner.close();
    await run.end(false);
    throw error;
  }
  return { input, run, runner, total };
}
