// The run the Train screen follows: its history (loaded once) plus the live events, applied at most once
// per animation frame so a fast training run cannot flood the page with updates.
import type { EpochPoint, RunDetails, StepPoint, TrainingEvent } from '../../../main/api/training-schemas.js';
import { api, messageOf } from './api.js';

type StepEvent = Extract<TrainingEvent, { type: 'step' }>;

/** Points kept per series; older ones are thinned by half when the limit is reached. */
const MAX_POINTS = 3000;

export const live = $state({
  runId: null as string | null,
  details: null as RunDetails | null,
  steps: [] as StepPoint[],
  epochs: [] as EpochPoint[],
  lastStep: null as StepEvent | null,
  backend: '',
  warnings: [] as string[],
  eventsReceived: 0,
  finishedMessage: '',
  error: '',
});

let buffer: { runId: string; event: TrainingEvent }[] = [];
let scheduled = false;
let loadToken = 0;

function halve<T>(points: T[]): T[] {
  return points.filter((_, i) => i % 2 === 0 || i === points.length - 1);
}

function flush(): void {
  scheduled = false;
  const batch = buffer;
  buffer = [];
  let steps: StepPoint[] | null = null;
  let epochs: EpochPoint[] | null = null;
  for (const { runId, event } of batch) {
    if (runId !== live.runId) continue;
    live.eventsReceived += 1;
    if (event.type === 'step') {
      steps ??= live.steps.slice();
      steps.push({
        globalStep: event.globalStep,
        epoch: event.epoch,
        loss: event.loss,
        accuracy: event.accuracy,
        imagesPerSecond: event.imagesPerSecond,
      });
      if (steps.length > MAX_POINTS) steps = halve(steps);
      live.lastStep = event;
    } else if (event.type === 'epoch') {
      epochs ??= live.epochs.slice();
      epochs.push({
        epoch: event.epoch,
        globalStep: live.lastStep?.globalStep ?? 0,
        trainLoss: event.trainLoss,
        trainAccuracy: event.trainAccuracy,
        valLoss: event.valLoss,
        valAccuracy: event.valAccuracy,
      });
    } else if (event.type === 'started') {
      live.backend = event.backend;
      live.finishedMessage = '';
    } else if (event.type === 'warning') live.warnings = [...live.warnings, event.message];
    else if (event.type === 'finished') live.finishedMessage = event.message;
  }
  if (steps) live.steps = steps;
  if (epochs) live.epochs = epochs;
}

export function acceptTrainingEvent(runId: string, event: TrainingEvent): void {
  if (runId !== live.runId) return;
  buffer.push({ runId, event });
  if (!scheduled) {
    scheduled = true;
    // Whichever comes first: the next frame, or a quarter second when frames are throttled (hidden tab).
    let done = false;
    const run = (): void => {
      if (!done) {
        done = true;
        flush();
      }
    };
    requestAnimationFrame(run);
    setTimeout(run, 250);
  }
}

/** Follows `runId`: loads its history, then live events add to it. */
export async function followRun(runId: string | null): Promise<void> {
  const token = ++loadToken;
  live.runId = runId;
  live.details = null;
  live.steps = [];
  live.epochs = [];
  live.lastStep = null;
  live.warnings = [];
  live.backend = '';
  live.finishedMessage = '';
  live.error = '';
  buffer = [];
  if (!runId) return;
  try {
    const details = await api().call('training.run', { runId });
    if (token !== loadToken) return;
    live.details = details;
    // Events that arrived while loading are newer than the history: keep both, without duplicates.
    const known = new Set(details.steps.map((s) => s.globalStep));
    live.steps = [...details.steps, ...live.steps.filter((s) => !known.has(s.globalStep))];
    const knownEpochs = new Set(details.epochs.map((e) => e.epoch));
    live.epochs = [...details.epochs, ...live.epochs.filter((e) => !knownEpochs.has(e.epoch))];
    live.warnings = [...details.warnings, ...live.warnings];
    live.backend ||= details.summary.backend;
  } catch (error) {
    if (token === loadToken) live.error = messageOf(error);
  }
}
