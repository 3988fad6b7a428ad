// Shows a training run's events in the CLI (bar, lines or JSON) and turns Ctrl-C into a clean stop:
// the first Ctrl-C asks the loop to stop at the next step and save a checkpoint, a second one quits.
// Must not import electron or anything from main/electron, main/server or renderer.

import { TrainingControl } from '../services/training/training-run.js';
import type { TrainingEvent } from '../services/training/training-events.js';
import { whileInterruptible } from './interrupt.js';
import { bar, formatSeconds, ProgressWriter, type OutputMode } from './progress-output.js';

export function createTrainingReporter(
  out: ProgressWriter,
  mode: OutputMode,
): (event: TrainingEvent) => void {
  let lastLine = 0;
  // Without a terminal, a progress line is printed at most every 10 s so logs stay readable.
  const progress = (text: string): void => {
    const now = Date.now();
    const asLine = now - lastLine > 10_000;
    if (asLine) lastLine = now;
    out.transient(text, asLine);
  };
  return (event) => {
    out.json(event);
    if (mode === 'json') return;
    switch (event.type) {
      case 'started':
        out.line(
          `Training on ${event.trainImages} images (${event.valImages} for validation), ${event.classes.length} classes, engine ${event.engine === 'tfjs' ? `TensorFlow.js ${event.backend}` : event.engine}` +
            (event.device && event.device !== 'cpu' ? ` on ${event.device}` : '') +
            (event.resumedAt
              ? `; resuming at epoch ${event.resumedAt.epoch + 1}, step ${event.resumedAt.stepInEpoch}`
              : ''),
        );
        break;
      case 'step': {
        progress(
          `epoch ${event.epoch + 1} ${bar(event.step / event.stepsPerEpoch)} ${event.step}/${event.stepsPerEpoch} loss ${event.loss.toFixed(3)} ${event.imagesPerSecond.toFixed(1)} img/s ETA ${formatSeconds(event.etaSeconds)}`,
        );
        break;
      }
      case 'caching':
        progress(
          `caching backbone features (${event.split}, ${event.precision}) ${bar(event.total > 0 ? event.done / event.total : 1)} ${event.done}/${event.total}`,
        );
        break;
      case 'epoch':
        out.line(
          `epoch ${event.epoch + 1}/${event.epochs}: train loss ${event.trainLoss.toFixed(3)} acc ${(100 * event.trainAccuracy).toFixed(1)} %, val loss ${event.valLoss.toFixed(3)} acc ${(100 * event.valAccuracy).toFixed(1)} %${event.improved ? ' (best so far)' : ''}`,
        );
        break;
      case 'skipped-file':
        out.line(`skipped ${event.path}: ${event.message}`);
        break;
      case 'warning':
        out.line(`warning: ${event.message}`);
        break;
      case 'evaluated':
        out.line(
          `evaluation (${event.split}): accuracy ${(100 * event.accuracy).toFixed(1)} % on ${event.images} images -> ${event.path}`,
        );
        break;
      case 'finished':
        out.line(`${event.status}: ${event.message}`);
        break;
      case 'checkpoint':
        break;
    }
  };
}

/** Installs the Ctrl-C handler for the duration of `work`. */
export async function withInterruptToStop<T>(
  control: TrainingControl,
  out: ProgressWriter,
  work: () => Promise<T>,
): Promise<T> {
  return whileInterruptible(
    {
      stopping: () => control.stopRequested !== null,
      stop: () => control.request('cancel'),
      message: 'Stopping after this step and saving a checkpoint (Ctrl-C again to quit at once)...',
      out,
    },
    work,
  );
}
