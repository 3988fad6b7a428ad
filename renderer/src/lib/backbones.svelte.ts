// The workspace's pretrained backbones as the Models and Train screens show them, and the running
// download's progress, kept current by the API's 'backbone-download' events.
import type { BackboneDownloadEvent, BackboneList } from '../../../main/api/backbone-schemas.js';
import { api, messageOf } from './api.js';

export const backboneState = $state({
  list: null as BackboneList | null,
  loadError: '',
  /** The latest event of the download in progress or of the last one. */
  download: null as BackboneDownloadEvent | null,
});

export async function refreshBackbones(): Promise<void> {
  try {
    backboneState.list = await api().call('backbones.list', {});
    backboneState.loadError = '';
  } catch (error) {
    backboneState.loadError = messageOf(error);
  }
}

export function acceptBackboneDownloadEvent(event: BackboneDownloadEvent): void {
  backboneState.download = event;
  if (event.stage === 'finished') void refreshBackbones();
}

/** True while a download runs (started here or in another window). */
export function downloading(): boolean {
  const stage = backboneState.download?.stage;
  return stage === 'download' || stage === 'verify' || stage === 'check';
}
