// How far a classification has got (classify-folder.ts), for its `onProgress`: files finished of the
// total, failed and resumed ones, the rate of this run and the time left at that rate. Must not import
// electron or anything from main/electron, main/backend, main/server, main/cli or renderer.

import type { ClassifyProgress } from './classify-options.js';
import type { RunResults } from './run-results.js';

/** Calls `onProgress` with the run's progress now; `started` is performance.now() at the run's start. */
export function progressReporter(
  run: RunResults,
  total: number | null,
  started: number,
  onProgress: ((progress: ClassifyProgress) => void) | undefined,
): () => void {
  return () => {
    const seconds = (performance.now() - started) / 1000;
    const rate = seconds > 0 ? run.classifiedNow / seconds : 0;
    const done = run.writer.counts.images;
    const left = Math.max(0, (total ?? done) - done);
    onProgress?.({
      done,
      total: total ?? done,
      totalKnown: total !== null,
      failed: run.writer.counts.failed,
      resumed: run.tally.resumed,
      imagesPerSecond: rate,
      etaSeconds: rate > 0 ? left / rate : left === 0 ? 0 : Infinity,
    });
  };
}
