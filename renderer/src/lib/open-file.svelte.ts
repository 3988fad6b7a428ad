// "Open" for a file the app shows (a problem file, a misclassified or classified picture), through the
// one API: the desktop window shows it in the system's file manager; a browser gets its full path (to
// copy) and a preview, which FileOpenDialog shows.
import type { FileReveal } from '../../../main/api/classify-schemas.js';
import { api, messageOf } from './api.js';

export const openedFile = $state({
  /** The file asked about (as the screen knows it), null when the dialog is closed. */
  asked: null as string | null,
  answer: null as FileReveal | null,
  error: '',
});

/** Opens `path` (absolute, or relative to the dataset `datasetId`). */
export async function openFile(path: string, datasetId?: string): Promise<void> {
  openedFile.asked = path;
  openedFile.answer = null;
  openedFile.error = '';
  try {
    const answer = await api().call('files.reveal', { path, ...(datasetId ? { datasetId } : {}) });
    if (openedFile.asked !== path) return;
    if (answer.revealed) {
      // The file manager shows it; nothing more to show here.
      openedFile.asked = null;
      return;
    }
    openedFile.answer = answer;
  } catch (error) {
    if (openedFile.asked === path) openedFile.error = messageOf(error);
  }
}

export function closeOpenedFile(): void {
  openedFile.asked = null;
  openedFile.answer = null;
  openedFile.error = '';
}
