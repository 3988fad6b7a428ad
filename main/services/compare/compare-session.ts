// What the phases of one comparison (compare-attention.ts) share: where it writes, what it compares and
// with which options, and how it talks back: progress events, warnings (kept for the report), and the
// user's stop request, which ends the comparison at the next step or phase boundary. Stopping throws a
// private signal that only compareAttention catches (wasCancelled), so it never escapes as an error. Must
// not import electron or anything from main/electron, main/backend, main/server, main/cli or renderer.

import type { TrainingControl } from '../training/training-run.js';
import type { CompareEvent, CompareOptions, CompareRunOptions } from './compare-types.js';

class Cancelled extends Error {}

export interface CompareSession {
  /** The comparison folder, absolute. */
  readonly outDir: string;
  /** The dataset folder, absolute. */
  readonly dataset: string;
  readonly options: CompareOptions;
  /** The caller's control: its stop request ends the comparison. */
  readonly control: TrainingControl | undefined;
  /** Every warning given so far, in order. */
  readonly warnings: string[];
  emit(event: CompareEvent): void;
  /** Keeps the warning for the report and sends it as an event. */
  warn(message: string): void;
  stopRequested(): boolean;
  /** Ends the comparison when a stop was requested. */
  checkStop(): void;
  /** Ends the comparison: the caller stopped it. */
  stop(): never;
}

export function createCompareSession(
  outDir: string,
  dataset: string,
  options: CompareOptions,
  run: CompareRunOptions,
): CompareSession {
  const emit = (event: CompareEvent): void => run.onEvent?.(event);
  const warnings: string[] = [];
  const stopRequested = (): boolean => Boolean(run.control?.stopRequested);
  const stop = (): never => {
    throw new Cancelled();
  };
  return {
    outDir,
    dataset,
    options,
    control: run.control,
    warnings,
    emit,
    warn: (message) => {
      warnings.push(message);
      emit({ type: 'warning', message });
    },
    stopRequested,
    checkStop: () => {
      if (stopRequested()) stop();
    },
    stop,
  };
}

/** Whether `error` is the session's stop (see the module comment). */
export function wasCancelled(error: unknown): boolean {
  return error instanceof Cancelled;
}
