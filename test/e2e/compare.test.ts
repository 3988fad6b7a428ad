// End to end in browser mode, with Debian's Chromium against the real services: a tiny comparison of the
// attention model against the plain VGG16_bn on the generated shapes dataset (S=32, width 1/16, two
// epochs: seconds; one file that is not a picture), started from the Compare screen and followed live;
// then every number the screen shows is checked against the compare.json the service wrote, the
// explanations' pictures load, and the HTML report opens as a page of its own with the same verdict.
import assert from 'node:assert/strict';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseCompareReport } from '../../main/services/compare/compare-report.js';
import { browserTestsUnavailable, openBrowserSession, pageErrorsOf, until } from './browser-session.js';
import { skipOrFail } from '../helpers/skip-or-fail.js';

const pct = (x: number): string => `${(100 * x).toFixed(1)} %`;
const digits = (text: string): string => text.replace(/\D/g, '');

test(
  'browser mode: a comparison of attention against the plain model, followed live, its report on screen',
  { skip: skipOrFail(browserTestsUnavailable()), timeout: 300_000 },
  async () => {
    const session = await openBrowserSession();
    const { page } = session;
    const pageErrors = pageErrorsOf(page);
    try {
      // A file that is not a picture: both models' runs skip it and say so; the screen says it once.
      await writeFile(join(session.dataset, 'train', 'circle', 'broken.png'), 'not a picture');
      await page.goto(session.app.server.openUrl);
      await page.getByLabel('Folder').fill(session.dataset);
      await page.getByRole('button', { name: 'Add dataset' }).click();
      await page.getByRole('heading', { name: 'Classes' }).waitFor();

      // Compare: the tiny settings of the service's own test, the same epochs for both models.
      await page.getByRole('tab', { name: 'Compare' }).click();
      await page.getByRole('heading', { name: 'New comparison' }).waitFor();
      await page.getByText('Advanced settings').click();
      await page.getByLabel('Input size (px)', { exact: true }).selectOption('32');
      await page.getByLabel('Width', { exact: true }).selectOption('0.0625');
      await page.getByLabel('Epochs', { exact: true }).fill('2');
      await page.getByLabel('Batch size', { exact: true }).fill('16');
      await page.getByLabel('Optimiser', { exact: true }).selectOption('adam');
      await page.getByLabel('Learning rate', { exact: true }).fill('0.002');
      await page.getByLabel('Seed', { exact: true }).fill('3');
      const started = Date.now();
      await page.getByRole('button', { name: 'Start comparison' }).click();

      // Both models report their training: the plain model's card reaches its steps after the attention one.
      const status = page.getByTestId('compare-status');
      await status.filter({ hasText: /starting|training|running/ }).waitFor();
      const verdict = page.getByTestId('compare-verdict');
      await verdict.waitFor({ timeout: 120_000 });
      console.log(`# comparison in the app: ${((Date.now() - started) / 1000).toFixed(1)} s`);
      await status.filter({ hasText: 'completed' }).waitFor();
      for (const model of ['attention', 'plain'])
        assert.match(
          (await page.getByTestId(`compare-model-${model}`).innerText()).replace(/\s+/g, ' '),
          /Epoch 2 \/ 2/,
          `${model} trained both epochs`,
        );
      await until(
        'both models drawn in the charts',
        async () => (await page.locator('svg polyline').count()) >= 4,
      );

      // The report on screen is compare.json's.
      const root = session.app.backend.workspace.comparisonsDir;
      const [id] = await readdir(root);
      const report = parseCompareReport(JSON.parse(await readFile(join(root, id, 'compare.json'), 'utf8')));
      assert.equal(report.settings.training.seed, 3);
      assert.deepEqual(report.settings.budget, { kind: 'epochs', epochs: 2 });
      assert.equal(await verdict.innerText(), report.verdict.text);
      const a = report.models.attention;
      const p = report.models.plain;
      const shown = async (testId: string): Promise<string> =>
        (await page.getByTestId(testId).innerText()).trim();
      assert.equal(await shown('accuracy-attention'), pct(a.evaluation.accuracy));
      assert.equal(await shown('accuracy-plain'), pct(p.evaluation.accuracy));
      assert.equal(
        await shown('interval-attention'),
        `${pct(a.evaluation.accuracyInterval[0])} – ${pct(a.evaluation.accuracyInterval[1])}`,
      );
      assert.equal(
        await shown('interval-plain'),
        `${pct(p.evaluation.accuracyInterval[0])} – ${pct(p.evaluation.accuracyInterval[1])}`,
      );
      assert.equal(
        digits(await shown('parameters-attention')),
        `${a.parameters.total}${a.parameters.trainable}`,
      );
      assert.equal(digits(await shown('parameters-plain')), `${p.parameters.total}${p.parameters.trainable}`);
      assert.ok(a.parameters.total > p.parameters.total, 'the attention model has the estimators on top');
      assert.equal(await shown('train-speed-attention'), a.training.imagesPerSecond.toFixed(1));
      assert.equal(await shown('train-speed-plain'), p.training.imagesPerSecond.toFixed(1));
      assert.equal(await shown('inference-attention'), a.inference.imagesPerSecond.toFixed(1));
      assert.equal(await shown('inference-plain'), p.inference.imagesPerSecond.toFixed(1));
      const pValue = report.paired.mcnemar.pValue;
      assert.equal(await shown('mcnemar-p'), pValue < 0.001 ? '< 0.001' : pValue.toFixed(3));
      const mcnemar = (await shown('compare-mcnemar')).replace(/\s+/g, ' ');
      assert.match(mcnemar, new RegExp(`Right only with attention: ${report.paired.mcnemar.b};`));
      assert.match(mcnemar, new RegExp(`right only without: ${report.paired.mcnemar.c};`));
      await page
        .getByRole('heading', { name: `Paired test on the same ${report.paired.n} images` })
        .waitFor();

      // Per class: one row each, recall of both in the report's numbers.
      const classRows = page.getByTestId('compare-classes').locator('tbody tr');
      assert.equal(await classRows.count(), report.classes.length);
      for (const [i, c] of report.perClass.entries()) {
        const cells = (await classRows.nth(i).locator('th, td').allInnerTexts()).map((t) => t.trim());
        assert.deepEqual(cells.slice(0, 4), [
          c.label,
          String(c.support),
          pct(c.attentionRecall),
          pct(c.plainRecall),
        ]);
      }

      // The shapes dataset has boxes: the pointing game of all four maps.
      assert.ok(report.pointing, 'the sample dataset has boxes');
      const pointingRows = page.getByTestId('compare-pointing').locator('tbody tr');
      assert.equal(await pointingRows.count(), 4);
      const gradCam = (await pointingRows.nth(3).innerText()).replace(/\s+/g, ' ');
      assert.match(
        gradCam,
        new RegExp(`${report.pointing.gradCamConv13.hits} / ${report.pointing.gradCamConv13.total}`),
      );

      // The explanations: the picture, the attention map and Grad-CAM of each, decoded in the page.
      const figures = page.getByTestId('compare-explanations').locator('li');
      assert.equal(await figures.count(), report.explanations.images.length);
      await until(
        'the explanation pictures',
        async () => (await figures.locator('img').count()) === 3 * report.explanations.images.length,
        30_000,
      );
      assert.equal(await figures.locator('.placeholder').count(), 0, 'every explanation picture loads');

      // The HTML report opens as a page of its own, with the same verdict and nothing fetched.
      const requests: string[] = [];
      const [tab] = await Promise.all([
        page.context().waitForEvent('page'),
        page.getByRole('button', { name: 'Open the HTML report' }).click(),
      ]);
      tab.on('request', (r) => requests.push(r.url()));
      await tab.waitForURL(/^blob:/);
      await tab.getByText(report.verdict.text).first().waitFor();
      assert.deepEqual(
        requests.filter((u) => !u.startsWith('blob:') && !u.startsWith('data:')),
        [],
      );
      await tab.close();

      assert.deepEqual(pageErrors, []);
    } finally {
      await session.close();
    }
  },
);
