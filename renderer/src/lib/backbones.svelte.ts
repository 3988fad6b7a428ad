// The workspace's pretrained backbones as the Models and Train screens show them, and the running
// download's progress, kept current by the API's 'backbone-download' events.
import type {
  BackboneDownloadEvent,
  BackboneList,
  CatalogueItem,
} from '../../../main/api/backbone-schemas.js';
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

/**
 * Downloads catalogue entry `id` (progress arrives as events), then refreshes the list; returns the
 * workspace's backbone id of it.
 */
export async function downloadCatalogueEntry(id: string): Promise<string> {
  const entry = await api().call('backbones.downloadCatalogue', { id });
  await refreshBackbones();
  return entry.id;
}

/** True when no ImageNet backbone can be trained from yet (neither downloaded nor added). */
export function noBackboneYet(): boolean {
  const list = backboneState.list;
  return list !== null && !list.backbones.some((b) => b.present);
}

/** "ImageNet VGG16_bn (torchvision, 528 MB, not downloaded yet)" from the entry's title. */
export function notDownloadedLabel(entry: CatalogueItem): string {
  return entry.title.replace(/\)$/, `, ${entry.sizeLabel}, not downloaded yet)`);
}

/** Bytes per second as "12.3 MB/s". */
export function speed(bytesPerSecond: number | undefined): string {
  if (!bytesPerSecond) return '';
  return `${(bytesPerSecond / 1e6).toFixed(1)} MB/s`;
}
