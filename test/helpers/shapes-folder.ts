// A fresh temporary folder holding a generated shapes dataset, the setup many integration and
// reliability tests start from, and the stub site a browser-mode server is served with.
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateShapesDataset, type ShapesDatasetOptions } from '../../main/services/sample/index.js';

/**
 * Makes `<tmp>/<prefix>XXXXXX/<name>` (name defaults to "shapes") with a shapes dataset in it; the caller
 * removes `dir` when done.
 */
export async function tempShapesDataset(
  prefix: string,
  options: ShapesDatasetOptions,
  name = 'shapes',
): Promise<{ dir: string; dataset: string }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const dataset = join(dir, name);
  await generateShapesDataset(dataset, options);
  return { dir, dataset };
}

/** Writes `<dir>/site/index.html`, the static folder a test serves browser mode with; returns the folder. */
export async function writeStubSite(dir: string, html = '<!doctype html>'): Promise<string> {
  const site = join(dir, 'site');
  await mkdir(site);
  await writeFile(join(site, 'index.html'), html);
  return site;
}
