// The workspace's comparisons (attention against the plain model) as the Compare screen shows them: the
// list kept current by 'compare-job' events, and the one shown with its report and both models' loss and
// accuracy (history loaded once, then live 'compare' events, applied at most once per animation frame).
import type {
  CompareEvent,
  CompareJob,
  CompareModel,
  CompareReport,
} from '../../../main/api/compare-schemas.js';
import { api, messageOf } from './api.js';
import { appendStep, epochPoint, frameBatcher, mergeHistory, type LossSeries } from './live-series.js';

type ModelSeries = LossSeries;

const empty = (): ModelSeries => ({ steps: [], epochs: [] });

export const compareState = $state({
  jobs: [] as CompareJob[],
  /** The comparison the screen shows. */
  selectedId: null as string | null,
  report: null as CompareReport | null,
  series: { attention: empty(), plain: empty() } as Record<CompareModel, ModelSeries>,
  /** Events received for the comparison shown (since it was chosen). */
  eventsReceived: 0,
  loadError: '',
});

let loadToken = 0;

export async function refreshCompareJobs(): Promise<void> {
  try {
    compareState.jobs = await api().call('compare.list', {});
    if (!compareState.selectedId && compareState.jobs[0]) void showComparison(compareState.jobs[0].id);
  } catch (error) {
    compareState.loadError = messageOf(error);
  }
}

/** Shows `id`: loads its report and both models' history; live events add to it. */
export async function showComparison(id: string | null): Promise<void> {
  const token = ++loadToken;
  compareState.selectedId = id;
  compareState.report = null;
  compareState.series = { attention: empty(), plain: empty() };
  compareState.eventsReceived = 0;
  compareState.loadError = '';
  events.clear();
  if (!id) return;
  try {
    const details = await api().call('compare.get', { compareId: id });
    if (token !== loadToken) return;
    compareState.report = details.report;
    acceptCompareJob(details.job);
    for (const model of ['attention', 'plain'] as const)
      compareState.series[model] = mergeHistory(details.history[model], compareState.series[model]);
  } catch (error) {
    if (token === loadToken) compareState.loadError = messageOf(error);
  }
}

export function acceptCompareJob(job: CompareJob): void {
  const i = compareState.jobs.findIndex((j) => j.id === job.id);
  const before = i >= 0 ? compareState.jobs[i] : null;
  if (i >= 0) compareState.jobs[i] = job;
  else compareState.jobs = [job, ...compareState.jobs];
  // The report is there once the comparison has completed: load it for the one shown.
  if (job.id === compareState.selectedId && job.status === 'completed' && before?.status === 'running')
    void api()
      .call('compare.get', { compareId: job.id })
      .then((details) => {
        if (compareState.selectedId === job.id) compareState.report = details.report;
      })
      .catch((error: unknown) => (compareState.loadError = messageOf(error)));
}

function flush(batch: { compareId: string; event: CompareEvent }[]): void {
  const next: Partial<Record<CompareModel, ModelSeries>> = {};
  for (const { compareId, event } of batch) {
    if (compareId !== compareState.selectedId) continue;
    compareState.eventsReceived += 1;
    if (event.type !== 'training') continue;
    const e = event.event;
    if (e.type !== 'step' && e.type !== 'epoch') continue;
    const series = (next[event.model] ??= {
      steps: compareState.series[event.model].steps.slice(),
      epochs: compareState.series[event.model].epochs.slice(),
    });
    if (e.type === 'step') series.steps = appendStep(series.steps, e);
    else series.epochs.push(epochPoint(e, series.steps.at(-1)?.globalStep ?? 0));
  }
  for (const model of ['attention', 'plain'] as const) {
    const s = next[model];
    if (s) compareState.series[model] = s;
  }
}

const events = frameBatcher(flush);

export function acceptCompareEvent(compareId: string, event: CompareEvent): void {
  if (compareId === compareState.selectedId) events.push({ compareId, event });
}
