// The workspace's comparisons (attention against the plain model) as the Compare screen shows them: the
// list kept current by 'compare-job' events, and the one shown with its report and both models' loss and
// accuracy (history loaded once, then live 'compare' events, applied at most once per animation frame).
import type {
  CompareEvent,
  CompareJob,
  CompareModel,
  CompareReport,
} from '../../../main/api/compare-schemas.js';
import type { EpochPoint, StepPoint } from '../../../main/api/training-schemas.js';
import { api, messageOf } from './api.js';

/** Points kept per series; older ones are thinned by half when the limit is reached. */
const MAX_POINTS = 3000;

interface ModelSeries {
  steps: StepPoint[];
  epochs: EpochPoint[];
}

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

let buffer: { compareId: string; event: CompareEvent }[] = [];
let scheduled = false;
let loadToken = 0;

function halve<T>(points: T[]): T[] {
  return points.filter((_, i) => i % 2 === 0 || i === points.length - 1);
}

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
  buffer = [];
  if (!id) return;
  try {
    const details = await api().call('compare.get', { compareId: id });
    if (token !== loadToken) return;
    compareState.report = details.report;
    acceptCompareJob(details.job);
    for (const model of ['attention', 'plain'] as const) {
      // Events that arrived while loading are newer than the history: keep both, without duplicates.
      const known = new Set(details.history[model].steps.map((s) => s.globalStep));
      const live = compareState.series[model];
      const knownEpochs = new Set(details.history[model].epochs.map((e) => e.epoch));
      compareState.series[model] = {
        steps: [...details.history[model].steps, ...live.steps.filter((s) => !known.has(s.globalStep))],
        epochs: [...details.history[model].epochs, ...live.epochs.filter((e) => !knownEpochs.has(e.epoch))],
      };
    }
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

function flush(): void {
  scheduled = false;
  const batch = buffer;
  buffer = [];
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
    if (e.type === 'step') {
      series.steps.push({
        globalStep: e.globalStep,
        epoch: e.epoch,
        loss: e.loss,
        accuracy: e.accuracy,
        imagesPerSecond: e.imagesPerSecond,
      });
      if (series.steps.length > MAX_POINTS) series.steps = halve(series.steps);
    } else
      series.epochs.push({
        epoch: e.epoch,
        globalStep: series.steps.at(-1)?.globalStep ?? 0,
        trainLoss: e.trainLoss,
        trainAccuracy: e.trainAccuracy,
        valLoss: e.valLoss,
        valAccuracy: e.valAccuracy,
      });
  }
  for (const model of ['attention', 'plain'] as const) {
    const s = next[model];
    if (s) compareState.series[model] = s;
  }
}

export function acceptCompareEvent(compareId: string, event: CompareEvent): void {
  if (compareId !== compareState.selectedId) return;
  buffer.push({ compareId, event });
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
