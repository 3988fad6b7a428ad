// Where the shared sample model lives (trained once per test run by test/fixtures/make-sample-run.ts,
// which scripts/run-tests.mjs runs before the integration tests).
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const SAMPLE_CACHE = resolve('test/.cache/sample');
export const SAMPLE_DATA = join(SAMPLE_CACHE, 'shapes');
export const SAMPLE_RUN = join(SAMPLE_CACHE, 'run');

/** A reason to skip when the shared model is missing (a test file run on its own, without the runner). */
export function sampleRunMissing(): string | null {
  return existsSync(join(SAMPLE_RUN, 'run.json'))
    ? null
    : `no shared sample model in ${SAMPLE_RUN}: run the tests with scripts/run-tests.mjs, which trains it first`;
}
