// One heavy job at a time: training, a folder classification and a comparison each use every core, so
// starting one while another runs is refused with a message that says which one runs and what to do.
// Must not import electron or renderer.
import { ApiError } from '../../api/index.js';
import type { BackendContext } from '../backend-context.js';

export type HeavyJobKind = 'training' | 'classify' | 'compare';

/** What runs now, in plain words, or null when nothing heavy runs. */
export function heavyJobRunning(context: BackendContext): { kind: HeavyJobKind; message: string } | null {
  const run = context.jobs.activeRunIds()[0];
  if (run)
    return {
      kind: 'training',
      message: `The run "${run}" is training now and uses every core: pause or cancel it on the Train screen first.`,
    };
  const job = context.classify.runningIds()[0];
  if (job)
    return {
      kind: 'classify',
      message:
        'A folder is being classified now and uses every core: wait for it or cancel it on the Classify screen first.',
    };
  const comparison = context.compare.runningIds()[0];
  if (comparison)
    return {
      kind: 'compare',
      message: `The comparison "${comparison}" is running now and uses every core: wait for it or cancel it on the Compare screen first.`,
    };
  return null;
}

/**
 * Throws a 'conflict' ApiError, saying what runs, when a heavy job of another kind runs (a second job of
 * the same kind is refused by its own registry, in its own words).
 */
export function refuseWhileHeavyJobRuns(context: BackendContext, starting: HeavyJobKind): void {
  const running = heavyJobRunning(context);
  if (running && running.kind !== starting) throw new ApiError('conflict', running.message);
}
