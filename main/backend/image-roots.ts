// The folders whose images the UI may see: the workspace's datasets, the dataset folders of its runs, the
// folders the user classified, the workspace's classification results (the overlays) and its
// comparisons (the explanation pictures and the HTML report).
// Must not import electron or renderer.
import { readRunRecord } from '../services/training/run-folder.js';
import type { ClassifyJobs } from '../services/jobs/index.js';
import type { Workspace } from './workspace.js';

export async function allowedImageRoots(workspace: Workspace, classify?: ClassifyJobs): Promise<string[]> {
  const roots = new Set((await workspace.datasets()).map((d) => d.path));
  // The comparisons' own pictures (explanations/) and pages (compare.html), made by the app.
  roots.add(workspace.comparisonsDir);
  if (classify) {
    roots.add(workspace.classificationsDir);
    for (const job of await classify.list()) roots.add(job.folder);
  }
  for (const id of await workspace.runIds()) {
    const record = await readRunRecord(workspace.runDir(id)).catch(() => null);
    if (record) roots.add(record.config.dataset);
  }
  return [...roots];
}
