// End to end in browser mode, with Debian's Chromium against the real services: the pretrained-backbone
// path a user takes. On the Models screen a file that is not a model is refused with the reason on
// screen; the real file is picked with the in-app browser (which lists .onnx files) and listed with what
// it is; a download from a loopback server shows its progress and ends listed. On the Train screen the
// starting point offers the backbone, the presets then say what they do with it, the empty fields show
// the backbone preset's values (224 px, Adam) and the width is fixed at 1; the cache precision is offered
// only while the preset caches features; a run started from it with float32 chosen completes with the
// quick preset (its features computed once) and the runs table names the backbone and the precision.
// With E2E_SHOTS=<folder> the screens are also photographed there (to look at them).
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { backboneFileBytes } from '../helpers/backbone-file.js';
import { browserTestsUnavailable, openBrowserSession, pageErrorsOf } from './browser-session.js';
import { skipOrFail } from '../helpers/skip-or-fail.js';

async function look(page: Page, name: string): Promise<void> {
  const dir = process.env.E2E_SHOTS;
  if (!dir) return;
  await mkdir(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
}

test(
  'browser mode: add, download and train from a pretrained backbone',
  { skip: skipOrFail(browserTestsUnavailable()), timeout: 300_000 },
  async () => {
    const session = await openBrowserSession();
    const { page } = session;
    const pageErrors = pageErrorsOf(page);
    const models = join(session.dir, 'my-models');
    await mkdir(models, { recursive: true });
    await writeFile(join(models, 'vgg16_bn.onnx'), backboneFileBytes(3, 3));
    await writeFile(join(models, 'resnet.onnx'), 'not a model');
    const other = backboneFileBytes(4, 3);
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'Content-Length': String(other.length) });
      res.end(other);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/imagenet/vgg16_bn-other.onnx`;
    try {
      await page.goto(session.app.server.openUrl);
      await page.getByLabel('Folder').fill(session.dataset);
      await page.getByRole('button', { name: 'Add dataset' }).click();
      await page.getByRole('heading', { name: 'Classes' }).waitFor();

      // Train screen before any backbone: it points to the Models screen.
      await page.getByRole('tab', { name: 'Train' }).click();
      await page.getByRole('button', { name: 'add a pretrained backbone on the Models screen' }).click();
      const panel = page.getByRole('region', { name: 'Pretrained backbones' });
      await panel.getByText('None yet').waitFor();

      // A file that is not a model: refused with the reason, nothing listed.
      await page.getByLabel(/^Weights file/).fill(join(models, 'resnet.onnx'));
      await panel.getByRole('button', { name: 'Add', exact: true }).click();
      await panel
        .getByRole('alert')
        .getByText(/resnet\.onnx cannot be used/)
        .waitFor();
      await look(page, 'backbone-refused');

      // The real one, picked with the in-app browser (opened on the folder typed).
      await page.getByLabel(/^Weights file/).fill(session.dir);
      await panel.getByRole('button', { name: 'Browse…' }).click();
      const browser = panel.getByLabel('Folder browser');
      await browser.getByRole('button', { name: '📁 my-models' }).waitFor();
      await browser.getByRole('button', { name: '📁 my-models' }).click();
      await browser.getByRole('button', { name: '📄 resnet.onnx' }).waitFor();
      await browser.getByRole('button', { name: '📄 vgg16_bn.onnx' }).click();
      await panel
        .getByRole('status')
        .getByText(/vgg16_bn\.onnx can be used: width 1, BatchNorm folded/)
        .waitFor();
      const rows = panel.getByRole('row');
      await rows.filter({ hasText: 'vgg16_bn.onnx' }).getByText('a file on this computer').waitFor();

      // A download: progress then listed.
      await page.getByLabel('Address (http or https)').fill(url);
      await panel.getByRole('button', { name: 'Download', exact: true }).click();
      await panel
        .getByText(/^Downloaded vgg16_bn-other\.onnx \(.* MiB\), no checksum given to verify\.$/)
        .waitFor();
      await rows.filter({ hasText: 'vgg16_bn-other.onnx' }).getByText(`downloaded from ${url}`).waitFor();
      await look(page, 'models-backbones');

      // Train from the picked backbone.
      await page.getByRole('tab', { name: 'Train' }).click();
      const startFrom = page.getByLabel('Start from');
      const options = await startFrom.locator('option').allTextContents();
      assert.deepEqual(options.slice(0, 1), ['Random weights (train from scratch)']);
      assert.equal(
        options.filter((o) => o.startsWith('Pretrained backbone: ')).length,
        2,
        `both backbones are offered: ${options.join(' | ')}`,
      );
      assert.ok(
        options.includes('ImageNet VGG16_bn (torchvision, 528 MB, not downloaded yet)'),
        options.join(' | '),
      );
      await startFrom.selectOption({ label: 'Pretrained backbone: vgg16_bn.onnx' });
      await page
        .getByRole('radio', { name: /^Quick \(5 epochs at 224 px\): the backbone stays frozen; / })
        .waitFor();
      await page.getByText('Advanced settings').click();
      const size = page.getByLabel('Input size (px)', { exact: true });
      assert.equal(await size.locator('option').first().textContent(), 'preset (224)');
      assert.equal(await page.getByLabel('Width', { exact: true }).isDisabled(), true);
      assert.equal(
        await page.getByLabel('Optimiser', { exact: true }).locator('option').first().textContent(),
        'preset (Adam)',
      );
      await page.getByLabel('Cached views per image').waitFor();
      // The cache precision is offered only while the run caches features (not with full).
      const precision = page.getByLabel('Cached feature precision');
      await page.getByRole('radio', { name: /^Full / }).check();
      await precision.waitFor({ state: 'detached' });
      await page.getByRole('radio', { name: /^Quick / }).check();
      await precision.selectOption('float32');
      await page.getByLabel('Attention compatibility').selectOption('additive');
      await look(page, 'train-backbone');
      await size.selectOption('32');
      await page.getByLabel('Epochs', { exact: true }).fill('1');
      await page.getByLabel('Batch size', { exact: true }).fill('8');
      await page.getByRole('button', { name: 'Start training' }).click();
      await page.getByTestId('run-status').filter({ hasText: 'completed' }).waitFor({ timeout: 240_000 });
      await page
        .getByRole('cell', { name: /additive attention, from vgg16_bn\.onnx, float32 feature cache$/ })
        .waitFor();
      await look(page, 'train-backbone-done');
      // The run trained with the compatibility chosen on the form.
      const runs = join(session.dir, 'workspace', 'runs');
      const [runId] = await readdir(runs);
      const record = JSON.parse(await readFile(join(runs, runId, 'run.json'), 'utf8'));
      assert.equal(record.config.compatibility, 'additive');
      assert.deepEqual(pageErrors, []);
    } finally {
      server.closeAllConnections();
      server.close();
      await session.close();
    }
  },
);
