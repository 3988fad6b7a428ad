// The results side of one classification run: what it records about itself in summary.json (the model
// with its SHA-256, the settings, the input and shard, counts, complete or not), the earlier rows it
// resumes from (resume-results.ts), the writer its rows go to (result-files.ts), and how it ends: a
// finished run puts its files in place, a stopped or failed one keeps its rows for --resume. Must not
// import electron or anything from main/electron, main/backend, main/server, main/cli or renderer.
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { ModelSidecar } from '../export/sidecar.js';
import type { UnitTally } from './batch-units.js';
import type { InputPlan, InputStream } from './input-source.js';
import {
  ResultWriter,
  SUMMARY_FORMAT,
  writeSummary,
  type EarlierRows,
  type ResultsSummary,
} from './result-files.js';
import { modelFileSha256 } from './results-match.js';
import { RESULTS_JSON, emptySummary, withTiming, type ClassifySettings } from './results.js';
import { openEarlier, stopEarly } from './resume-results.js';

export class RunResults {
  readonly tally: UnitTally = { resumed: 0, skipped: [], skippedCount: 0 };
  private writerOrNull: ResultWriter | null = null;
  private readonly started = performance.now();
  private readonly startedAt = new Date().toISOString();
  /** Files classified by this run (not taken from earlier results). */
  classifiedNow = 0;

  private constructor(
    private readonly out: string,
    private readonly model: ResultsSummary['model'],
    private readonly settings: ClassifySettings,
    private readonly input: InputStream,
    private readonly plan: InputPlan | null,
    readonly earlier: EarlierRows | null,
  ) {}

  /** Checks what can be checked before anything is written: the model file, and for `resume` the earlier results. */
  static async open(
    out: string,
    modelPath: string,
    sidecar: ModelSidecar,
    settings: ClassifySettings,
    input: InputStream,
    plan: InputPlan | null,
    resume: boolean,
  ): Promise<RunResults> {
    const model = {
      path: resolve(modelPath),
      modelId: sidecar.modelId,
      sha256: await modelFileSha256(resolve(modelPath)),
      classes: [...sidecar.classes],
    };
    const earlier = resume ? await openEarlier(out, { model, settings, input: input.record() }) : null;
    return new RunResults(out, model, settings, input, plan, earlier);
  }

  get writer(): ResultWriter {
    if (!this.writerOrNull) throw new Error('RunResults.begin() first');
    return this.writerOrNull;
  }

  /** Starts the results files (afresh, or staged beside the earlier ones) and the summary. */
  async begin(): Promise<void> {
    this.writerOrNull = await ResultWriter.create(this.out, this.settings.topK, this.earlier !== null);
    await rm(join(this.out, RESULTS_JSON), { force: true }); // the whole-set file of earlier versions
    await writeSummary(this.out, this.summary(false));
  }

  summary(complete: boolean): ResultsSummary {
    const record = this.input.record();
    const seconds = (performance.now() - this.started) / 1000;
    return {
      format: SUMMARY_FORMAT,
      model: this.model,
      settings: this.settings,
      input: {
        ...record,
        total: record.total ?? this.plan?.total ?? null,
        listSha256: record.listSha256 ?? this.plan?.listSha256 ?? null,
      },
      startedAt: this.startedAt,
      updatedAt: new Date().toISOString(),
      complete,
      summary: withTiming(this.writerOrNull?.counts ?? emptySummary(), seconds, this.classifiedNow),
      skipped: this.tally.skipped,
      skippedCount: this.tally.skippedCount,
    };
  }

  /** Flushes the rows so far and says how far the run got. */
  async save(): Promise<void> {
    await this.writer.sync();
    await writeSummary(this.out, this.summary(false));
  }

  /** Ends the run: finished, its files in place; stopped or failed, its rows kept for --resume. */
  async end(completed: boolean): Promise<ResultsSummary> {
    if (!this.writerOrNull) {
      await this.earlier?.close();
      return this.summary(false);
    }
    if (completed) {
      await this.earlier?.close();
      await this.writer.finish();
    } else await stopEarly(this.out, this.writer, this.earlier, this.settings.topK);
    const summary = this.summary(completed);
    await writeSummary(this.out, summary);
    return summary;
  }
}
