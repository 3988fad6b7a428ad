// The progress of a dataset scan (scan-dataset.ts): counts of files seen, probed and refused, passed to
// the caller's onProgress at most every progressIntervalMs, and once more at the end. Must not import
// electron or anything from main/electron, main/backend, main/server, main/cli or renderer.
import type { ScanProgress } from './dataset-types.js';

export interface ProgressOptions {
  onProgress?: (progress: ScanProgress) => void;
  progressIntervalMs?: number;
}

export type ProgressReporter = ReturnType<typeof createProgressReporter>;

export function createProgressReporter(options: ProgressOptions) {
  const state: ScanProgress = { seen: 0, probed: 0, problems: 0, walkDone: false };
  const interval = options.progressIntervalMs ?? 100;
  let last = 0;
  const emit = (force = false): void => {
    if (!options.onProgress) return;
    const now = performance.now();
    if (!force && now - last < interval) return;
    last = now;
    options.onProgress({ ...state });
  };
  return {
    state,
    seen: () => {
      state.seen++;
      emit();
    },
    probed: () => {
      state.probed++;
      emit();
    },
    problem: () => {
      state.problems++;
      emit();
    },
    walkDone: () => {
      state.walkDone = true;
    },
    done: () => emit(true),
  };
}
