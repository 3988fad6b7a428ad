// The workspace's classification jobs as the Classify screen shows them, kept current by the API's
// 'classify' events, and the last word of each model export ('export' events) for the Models screen.
import type { ClassifyJob } from '../../../main/api/classify-schemas.js';
import { api, messageOf } from './api.js';

export const classifyState = $state({
  jobs: [] as ClassifyJob[],
  /** The job the screen shows. */
  selectedJobId: null as string | null,
  loadError: '',
  /** Counts 'classify' events, so views that page through results know when to look again. */
  revision: 0,
});

export const exportState = $state({
  /** runId -> the latest export event's stage and message. */
  byRun: {} as Record<string, { stage: 'started' | 'finished' | 'failed'; message: string }>,
});

export async function refreshClassifyJobs(): Promise<void> {
  try {
    classifyState.jobs = await api().call('classify.jobs', {});
    classifyState.selectedJobId ??= classifyState.jobs[0]?.id ?? null;
  } catch (error) {
    classifyState.loadError = messageOf(error);
  }
}

export function acceptClassifyJob(job: ClassifyJob): void {
  const i = classifyState.jobs.findIndex((j) => j.id === job.id);
  if (i >= 0) classifyState.jobs[i] = job;
  else classifyState.jobs = [job, ...classifyState.jobs];
  classifyState.revision++;
}

export function acceptExportEvent(
  runId: string,
  stage: 'started' | 'finished' | 'failed',
  message: string,
): void {
  exportState.byRun[runId] = { stage, message };
}
