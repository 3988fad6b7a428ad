// Whether two results folders describe rows made the same way: the same model file (its SHA-256) and the
// same settings that shape a row (top-k, threshold, heat-maps and their look, raw maps, sorting). Batch
// size and threads only change the speed, so they may differ. `--resume` and `classify merge` both ask
// this, and say what differs. Must not import electron or anything from main/electron, main/backend, main/server,
// main/cli or renderer.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { ResultsSummary } from './result-files.js';
import { ResultsError, type ClassifySettings } from './results.js';

/** Settings that change what a row holds (everything but batch and threads). */
const ROW_SETTINGS = [
  'topK',
  'threshold',
  'heatmaps',
  'level',
  'colormap',
  'opacity',
  'overlaySize',
  'legend',
  'rawMaps',
  'sortInto',
  'link',
] as const satisfies readonly (keyof ClassifySettings)[];

function shown(value: unknown): string {
  return value === undefined || value === null ? 'none' : JSON.stringify(value);
}

/** "topK: 3 here, 5 there" for the first setting that differs, or null when none does. */
export function settingsDifference(
  a: ClassifySettings,
  b: ClassifySettings,
  here = 'here',
  there = 'there',
): string | null {
  for (const key of ROW_SETTINGS) {
    const x = a[key] ?? null;
    const y = b[key] ?? null;
    if (x !== y) return `${key}: ${shown(x)} ${here}, ${shown(y)} ${there}`;
  }
  return null;
}

/** What differs in the model between two summaries, or null. */
export function modelDifference(
  a: ResultsSummary['model'],
  b: ResultsSummary['model'],
  here = 'here',
  there = 'there',
): string | null {
  if (a.sha256 === b.sha256) return null;
  return `the model file differs: ${a.path} (SHA-256 ${a.sha256.slice(0, 12)}...) ${here}, ${b.path} (SHA-256 ${b.sha256.slice(0, 12)}...) ${there}`;
}

/** SHA-256 of the model file, recorded so that shards and resumed runs can be checked to match. */
export async function modelFileSha256(modelPath: string): Promise<string> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(modelPath)) hash.update(chunk as Buffer);
  } catch (error) {
    throw new ResultsError(`The model file ${modelPath} cannot be read (${(error as Error).message}).`);
  }
  return hash.digest('hex');
}
