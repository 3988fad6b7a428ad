// The folders whose images the UI may see: the workspace's datasets and the dataset folders of its runs.
// Must not import electron or renderer.
import { readRunRecord } from '../services/training/run-folder.js';
import type { Workspace } from './workspace.js';

export async function allowedImageRoots(workspace: Workspace): Promise<string[]> {
  const roots = new Set((await workspace.datasets()).map((d) => d.path));
  for (const id of await workspace.runIds()) {
    const record = await readRunRecord(workspace.runDir(id)).catch(() => null);
    if (record) roots.add(record.config.dataset);
  }
  return [...roots];
}
