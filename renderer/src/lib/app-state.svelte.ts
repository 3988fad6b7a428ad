// State shared by the screens: the connection, the app report, the workspace's datasets and runs, and
// the screen shown (kept in the address's hash, so a reload stays on it). Refreshed from the API and
// kept current by its events.
import type { AppInfo } from '../../../main/api/app-schemas.js';
import type { DatasetEntry } from '../../../main/api/datasets-schemas.js';
import type { RunSummary } from '../../../main/api/training-schemas.js';
import { api, messageOf } from './api.js';

export const SCREENS = [
  { id: 'datasets', label: 'Datasets' },
  { id: 'train', label: 'Train' },
  { id: 'compare', label: 'Compare' },
  { id: 'evaluate', label: 'Evaluate' },
  { id: 'attention', label: 'Attention' },
  { id: 'classify', label: 'Classify' },
  { id: 'models', label: 'Models' },
] as const;
export type ScreenId = (typeof SCREENS)[number]['id'];

function screenFromHash(): ScreenId {
  const id = location.hash.replace(/^#\/?/, '').split('?')[0];
  return (SCREENS.find((s) => s.id === id)?.id ?? 'datasets') as ScreenId;
}

export const appState = $state({
  connected: false,
  screen: screenFromHash(),
  info: null as AppInfo | null,
  datasets: [] as DatasetEntry[],
  runs: [] as RunSummary[],
  /** The run the Train screen follows. */
  selectedRunId: null as string | null,
  /** The finished run the Evaluate and Attention screens look at. */
  inspectedRunId: null as string | null,
  selectedDatasetId: null as string | null,
  loadError: '',
});

export function showScreen(id: ScreenId): void {
  appState.screen = id;
  if (location.hash !== `#/${id}`) history.replaceState(null, '', `#/${id}`);
}

window.addEventListener('hashchange', () => {
  appState.screen = screenFromHash();
});

export async function refreshDatasets(): Promise<void> {
  try {
    appState.datasets = await api().call('datasets.list', {});
  } catch (error) {
    appState.loadError = messageOf(error);
  }
}

export async function refreshRuns(): Promise<void> {
  try {
    appState.runs = await api().call('training.runs', {});
  } catch (error) {
    appState.loadError = messageOf(error);
  }
}

export function upsertRun(run: RunSummary): void {
  const i = appState.runs.findIndex((r) => r.id === run.id);
  if (i >= 0) appState.runs[i] = run;
  else appState.runs = [run, ...appState.runs];
}

export async function refreshInfo(): Promise<void> {
  try {
    appState.info = await api().call('app.info', {});
  } catch (error) {
    appState.loadError = messageOf(error);
  }
}
