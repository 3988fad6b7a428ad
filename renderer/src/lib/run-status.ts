// How a run's status reads to a person, and which actions make sense in it.
import type { RunSummary } from '../../../main/api/training-schemas.js';

export function statusText(run: RunSummary): string {
  if (run.active) return run.status === 'created' ? 'starting' : 'training';
  if (run.status === 'running' || run.status === 'created') return 'interrupted';
  return run.status.replace('-', ' ');
}

/** The run's settings in one line for the Runs list; what differs from the usual is named. */
export function settingsText(run: RunSummary): string {
  const s = run.settings;
  const parts = [`S=${s.inputSize}, width ${s.width}, ${s.epochs} epochs, ${s.optimizer} lr ${s.lr}`];
  if (!s.attention) parts.push('no attention');
  else if (s.compatibility && s.compatibility !== 'pc') parts.push(`${s.compatibility} attention`);
  if (run.backbone) parts.push(`from ${run.backbone}`);
  if (s.featureCachePrecision === 'float32') parts.push('float32 feature cache');
  return parts.join(', ');
}

export function canResume(run: RunSummary): boolean {
  return !run.active && !['completed', 'stopped-early'].includes(run.status);
}

export function isFinished(run: RunSummary): boolean {
  return run.status === 'completed' || run.status === 'stopped-early';
}
