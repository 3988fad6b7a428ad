// --resume over results.jsonl: the earlier rows are taken up only when they were made with the same
// model file and row settings and for the same shard (results-match.ts), after putting back together a
// resumed run that was killed; a run stopped before its end keeps its rows and, when it was itself a
// resumed run, joins them with the earlier ones. Must not import electron or anything from
// main/electron, main/backend, main/server, main/cli or renderer.
import {
  EarlierRows,
  readSummary,
  recoverInterruptedResume,
  type ResultWriter,
  type ResultsSummary,
} from './result-files.js';
import { modelDifference, settingsDifference } from './results-match.js';
import { ResultsError, readResults } from './results.js';
import { shardLabel } from './shard.js';

/** The earlier rows of `out` for --resume (null when there are none), checked against `current`. */
export async function openEarlier(
  out: string,
  current: Pick<ResultsSummary, 'model' | 'settings' | 'input'>,
): Promise<EarlierRows | null> {
  const previous = await readSummary(out);
  if (!previous) {
    if (await readResults(out))
      throw new ResultsError(
        `The results in ${out} were written by an earlier version (results.json); --resume continues results.jsonl only. Use another --out folder, or leave out --resume to start again.`,
      );
    return null;
  }
  const was = shardLabel(previous.input.shard);
  const now = shardLabel(current.input.shard);
  const differs =
    (previous.model.modelId !== current.model.modelId ? 'another model' : null) ??
    modelDifference(previous.model, current.model, 'there', 'now') ??
    settingsDifference(previous.settings, current.settings, 'there', 'now') ??
    (was !== now ? `shard ${was} there, ${now} now` : null);
  if (differs)
    throw new ResultsError(
      `The results in ${out} were made differently (${differs}). Resume with the same model and options, use another --out folder, or leave out --resume to start again.`,
    );
  await recoverInterruptedResume(out, previous.settings.topK);
  return new EarlierRows(out);
}

/** A run stopped before its end: its rows so far stay; a resumed run's rows join the earlier ones. */
export async function stopEarly(
  out: string,
  writer: ResultWriter,
  earlier: EarlierRows | null,
  topK: number,
): Promise<void> {
  await writer.sync().catch(() => undefined);
  await writer.close();
  if (!earlier) return;
  await earlier.close();
  await recoverInterruptedResume(out, topK);
}
