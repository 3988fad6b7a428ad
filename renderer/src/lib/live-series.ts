// What the live charts of a training run (live-training.svelte.ts) and of a comparison's two models
// (compare-jobs.svelte.ts) share: step and epoch points from training events, thinned to a bounded
// length, history merged with the events that came while it loaded, and events applied in batches at
// most once per animation frame so a fast run cannot flood the page. Must not import Node modules.
import type { EpochPoint, StepPoint, TrainingEvent } from '../../../main/api/training-schemas.js';

type StepEvent = Extract<TrainingEvent, { type: 'step' }>;
type EpochEvent = Extract<TrainingEvent, { type: 'epoch' }>;

/** Points kept per series; older ones are thinned by half when the limit is reached. */
const MAX_POINTS = 3000;

export interface LossSeries {
  steps: StepPoint[];
  epochs: EpochPoint[];
}

function halve<T>(points: T[]): T[] {
  return points.filter((_, i) => i % 2 === 0 || i === points.length - 1);
}

/** Adds a step event's point to `steps` (which the caller owns); returns the array to keep. */
export function appendStep(steps: StepPoint[], event: StepEvent): StepPoint[] {
  steps.push({
    globalStep: event.globalStep,
    epoch: event.epoch,
    loss: event.loss,
    accuracy: event.accuracy,
    imagesPerSecond: event.imagesPerSecond,
  });
  return steps.length > MAX_POINTS ? halve(steps) : steps;
}

/** An epoch event's point, drawn at `globalStep` (the last step seen). */
export function epochPoint(event: EpochEvent, globalStep: number): EpochPoint {
  return {
    epoch: event.epoch,
    globalStep,
    trainLoss: event.trainLoss,
    trainAccuracy: event.trainAccuracy,
    valLoss: event.valLoss,
    valAccuracy: event.valAccuracy,
  };
}

/** Events that arrived while the history loaded are newer than it: keep both, without duplicates. */
export function mergeHistory(history: LossSeries, live: LossSeries): LossSeries {
  const known = new Set(history.steps.map((s) => s.globalStep));
  const knownEpochs = new Set(history.epochs.map((e) => e.epoch));
  return {
    steps: [...history.steps, ...live.steps.filter((s) => !known.has(s.globalStep))],
    epochs: [...history.epochs, ...live.epochs.filter((e) => !knownEpochs.has(e.epoch))],
  };
}

/** Collects items and hands them to `flush` together, at most once per animation frame. */
export function frameBatcher<T>(flush: (batch: T[]) => void): { push: (item: T) => void; clear: () => void } {
  let buffer: T[] = [];
  let scheduled = false;
  const run = (): void => {
    scheduled = false;
    const batch = buffer;
    buffer = [];
    flush(batch);
  };
  return {
    push(item) {
      buffer.push(item);
      if (scheduled) return;
      scheduled = true;
      // Whichever comes first: the next frame, or a quarter second when frames are throttled (hidden tab).
      let done = false;
      const once = (): void => {
        if (!done) {
          done = true;
          run();
        }
      };
      requestAnimationFrame(once);
      setTimeout(once, 250);
    },
    clear() {
      buffer = [];
    },
  };
}
