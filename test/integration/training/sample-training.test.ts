// The engine end to end on the sample dataset: the shared sample model (demo settings) must classify
// well above chance and its finest attention map must point at the objects.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LocalisationReport } from '../../../main/services/boxes/localisation.js';
import { cli } from '../../helpers/cli.js';
import { selectBackend } from '../../../models/tfjs/backend.js';
import { scanDataset } from '../../../main/services/datasets/scan-dataset.js';
import { readShapesBoxes } from '../../../main/services/sample/index.js';
import { attentionPointingGame } from '../../../main/services/training/attention-pointing.js';
import { loadRunModel } from '../../../main/services/training/load-run-model.js';
import { readMetrics, readRunRecord } from '../../../main/services/training/run-folder.js';
import type { EvaluationReport } from '../../../main/services/training/evaluate-model.js';
import { SAMPLE_DATA, SAMPLE_RUN, sampleRunMissing } from '../../helpers/sample-run.js';

const missing = sampleRunMissing();
if (missing) console.log(`# skipping: ${missing}`);

test('the sample model classifies the shapes well above chance', { skip: missing ?? false }, async () => {
  const record = await readRunRecord(SAMPLE_RUN);
  assert.equal(record.status, 'completed');
  const report = JSON.parse(await readFile(join(SAMPLE_RUN, 'evaluation.json'), 'utf8')) as EvaluationReport;
  assert.equal(report.split, 'test');
  assert.equal(report.metrics.total, 4 * 50);
  // Chance is 25 % (4 balanced classes); 70 % leaves room for seed-to-seed spread seen in calibration.
  assert.ok(report.metrics.accuracy >= 0.7, `test accuracy ${report.metrics.accuracy}`);
  assert.equal(
    report.metrics.confusion.flat().reduce((a, b) => a + b, 0),
    200,
  );
  assert.equal(report.metrics.perClass.length, 4);
  // The metrics log has one epoch event per epoch and steps in between.
  const events = await readMetrics(SAMPLE_RUN);
  assert.equal(events.filter((e) => e.type === 'epoch').length, record.config.epochs);
  assert.ok(events.some((e) => e.type === 'step'));
});

test(
  'the finest attention map points at the object (pointing game)',
  { skip: missing ?? false },
  async () => {
    await selectBackend();
    const run = await loadRunModel(SAMPLE_RUN);
    const scan = await scanDataset(SAMPLE_DATA, {});
    const testItems = scan.items.filter((i) => i.split === 'test');
    const result = await attentionPointingGame(run, testItems, await readShapesBoxes(SAMPLE_DATA));
    console.log(
      `# pointing game: ${(100 * result.hitRate).toFixed(1)} % hits (random peak: ${(100 * result.chanceRate).toFixed(1)} %)`,
    );
    assert.equal(result.total, 200);
    // Threshold: at least twice what a random peak would hit (chance = share of the finest map's cells
    // inside the box, about 19 %). Runs of the demo settings measured 49-94 % (bench/RESULTS.md): this
    // fails when attention stops pointing at the objects, not with the spread between training runs.
    assert.ok(
      result.hitRate >= 2 * result.chanceRate,
      `hit rate ${result.hitRate}, chance ${result.chanceRate}`,
    );
  },
);

test(
  '`attnvgg eval` on the test folder with the boxes file of the dataset plays the same pointing game',
  { skip: missing ?? false },
  async () => {
    const dir = await mkdtemp(join(tmpdir(), 'attnvgg-eval-boxes-'));
    try {
      // A copy of the run: eval writes its report into the run folder.
      await cp(SAMPLE_RUN, join(dir, 'run'), { recursive: true });
      const run = await loadRunModel(SAMPLE_RUN);
      const scan = await scanDataset(SAMPLE_DATA, {});
      const reference = await attentionPointingGame(
        run,
        scan.items.filter((i) => i.split === 'test'),
        await readShapesBoxes(SAMPLE_DATA),
      );
      // The folder is test/, the boxes file's paths are relative to its own folder (the dataset root).
      const { code, out } = await cli(
        'eval',
        join(dir, 'run'),
        join(SAMPLE_DATA, 'test'),
        '--boxes',
        join(SAMPLE_DATA, 'boxes.json'),
        '--json',
      );
      assert.equal(code, 0);
      const answer = JSON.parse(out) as { localisation: LocalisationReport };
      assert.equal(answer.localisation.images, 200);
      assert.equal(answer.localisation.levels.length, 3);
      assert.equal(answer.localisation.levels[0].hits, reference.hits);
      assert.equal(answer.localisation.levels[0].chanceRate, reference.chanceRate);
      assert.equal(answer.localisation.combined.total, 200);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
);
