// Ctrl-C (and SIGTERM) during a long command: the first asks the work to stop at its next safe point and
// says so, the second quits at once with EXIT.interrupted. Must not import electron or anything from
// main/electron, main/server or renderer.

import { EXIT } from './command.js';
import type { ProgressWriter } from './progress-output.js';

export interface InterruptHandling {
  /** True once a stop was asked for (a second Ctrl-C then quits at once). */
  stopping: () => boolean;
  /** Asks the work to stop at its next safe point. */
  stop: () => void;
  /** What the user is told when the first Ctrl-C arrives. */
  message: string;
  out: ProgressWriter;
}

/** Runs `work` with the handlers of `interrupt` installed, and removes them when it settles. */
export async function whileInterruptible<T>(
  interrupt: InterruptHandling,
  work: () => Promise<T>,
): Promise<T> {
  const onSignal = (): void => {
    if (interrupt.stopping()) process.exit(EXIT.interrupted);
    interrupt.stop();
    interrupt.out.line(interrupt.message);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await work();
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
