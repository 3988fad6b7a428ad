// A run's summary names how its feature caches stored the features, from the caching events of its
// metrics log: float32 when it said so, float16 for logs from before the events named it, and nothing for
// a run that cached nothing.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunSummarySchema } from '../../../main/api/index.js';
import { readRunSummary } from '../../../main/backend/run-summaries.js';
import { runPath, writeRunRecord } from '../../../main/services/training/run-folder.js';
import { resolveConfig } from '../../../main/services/training/training-config.js';
import { backboneTestSpec } from '../../helpers/backbone-file.js';

const root = await mkdtemp(join(tmpdir(), 'attnvgg-run-summaries-'));
after(() => rm(root, { recursive: true, force: true }));

async function runWithLog(name: string, events: object[]): Promise<string> {
  const runDir = join(root, name);
  await mkdir(runDir, { recursive: true });
  const config = resolveConfig({ dataset: '/d', backbone: '/b.onnx', featureCachePrecision: 'float32' });
  await writeRunRecord(runDir, {
    format: 'attnvgg-run/1',
    id: name,
    status: 'running',
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    config,
    spec: backboneTestSpec(),
    classes: ['a', 'b'],
    datasetFingerprint: 'x',
    backend: 'cpu',
    appVersion: '0',
  });
  await writeFile(runPath(runDir, 'metrics'), events.map((e) => `${JSON.stringify(e)}\n`).join(''));
  return runDir;
}

const caching = { type: 'caching', split: 'train', done: 0, total: 4 };

test('the summary names the feature cache precision the run cached with', async () => {
  const cases: [string, object[], string | undefined][] = [
    ['float32', [{ ...caching, precision: 'float32' }], 'float32'],
    ['old-log', [caching], 'float16'],
    ['no-cache', [], undefined],
  ];
  for (const [name, events, expected] of cases) {
    const summary = await readRunSummary(await runWithLog(name, events), { active: false, datasets: [] });
    assert.equal(summary.settings.featureCachePrecision, expected, name);
    assert.deepEqual(RunSummarySchema.parse(summary), summary, `${name}: the summary fits the contract`);
  }
});
