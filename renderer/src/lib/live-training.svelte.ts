// The run the Train screen follows: its history (loaded once) plus the live events, applied at most once
// per animation frame so a fast training run cannot flood the page with updates.
import type { EpochPoint, RunDetails, StepPoint, TrainingEvent } from '../../../main/api/training-schemas.js';
import { api, messageOf } from './api.js';
import { appendStep, epochPoint, frameBatcher, mergeHistory } from './live-series.js';

type StepEvent = Extract<TrainingEvent, { type: 'step' }>;

export const live = $state({
  runId: null as string | null,
  details: null as RunDetails | null,
  steps: [] as StepPoint[],
  epochs: [] as EpochPoint[],
  lastStep: null as StepEvent | null,
  backend: '',
  device: '',
  warnings: [] as string[],
  eventsReceived: 0,
  finishedMessage: '',
  error: '',
});

let loadToken = 0;

function flush(batch: { runId: string; event: TrainingEvent }[]): void {
  let steps: StepPoint[] | null = null;
  let epochs: EpochPoint[] | null = null;
  for (const { runId, event } of batch) {
    if (runId !== live.runId) continue;
    live.eventsReceived += 1;
    if (event.type === 'step') {
      steps = appendStep(steps ?? live.steps.slice(), event);
      live.lastStep = event;
    } else if (event.type === 'epoch') {
      epochs ??= live.epochs.slice();
      epochs.push(epochPoint(event, live.lastStep?.globalStep ?? 0));
    } else if (event.type === 'started') {
      live.backend = event.backend;
      live.device = event.device ?? '';
      live.finishedMessage = '';
    } else if (event.type === 'warning') live.warnings = [...live.warnings, event.message];
    else if (event.type === 'finished') live.finishedMessage = event.message;
  }
  if (steps) live.steps = steps;
  if (epochs) live.epochs = epochs;
}

const events = frameBatcher(flush);

export function acceptTrainingEvent(runId: string, event: TrainingEvent): void {
  if (runId === live.runId) events.push({ runId, event });
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
  live.device = '';
  live.finishedMessage = '';
  live.error = '';
  events.clear();
  if (!runId) return;
  try {
    const details = await api().call('training.run', { runId });
    if (token !== loadToken) return;
    live.details = details;
    const merged = mergeHistory(details, live);
    live.steps = merged.steps;
    live.epochs = merged.epochs;
    live.warnings = [...details.warnings, ...live.warnings];
    live.backend ||= details.summary.backend;
    live.device ||= details.summary.device ?? '';
  } catch (error) {
    if (token === loadToken) live.error = messageOf(error);
  }
}
