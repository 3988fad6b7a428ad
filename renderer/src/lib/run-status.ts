// How a run's status reads to a person, and which actions make sense in it.
import type { RunSummary } from '../../../main/api/training-schemas.js';

export function statusText(run: RunSummary): string {
  if (run.active) return run.status === 'created' ? 'starting' : 'training';
  if (run.status === 'running' || run.status === 'created') return 'interrupted';
  return run.status.replace('-', ' ');
}

export function canResume(run: RunSummary): boolean {
  return !run.active && !['completed', 'stopped-early'].includes(run.status);
}

export function isFinished(run: RunSummary): boolean {
  return run.status === 'completed' || run.status === 'stopped-early';
}
