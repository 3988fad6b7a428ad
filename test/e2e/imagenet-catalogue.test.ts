// End to end in browser mode, with Debian's Chromium against the real services: ImageNet weights in one
// click. A loopback server stands in for download.pytorch.org (the catalogue entry's address and checksum
// overridden, as only tests may; the file is a random width-1.0 VGG16_bn in an archive, served slowly
// enough to watch). The Train screen shows the first-run hint and offers "ImageNet VGG16_bn (torchvision,
// 528 MB, not downloaded yet)"; starting a quick run from it shows the download's progress and speed,
// then the run completes from the downloaded weights, and the Models screen lists the entry as
// downloaded. With E2E_SHOTS=<folder> the screens are also photographed there.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { overrideCatalogueEntryForTests } from '../../main/services/backbone/catalogue-download.js';
import { tarGzBytes } from '../fixtures/make-hostile-checkpoints.js';
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
  'browser mode: train from ImageNet weights picked from the catalogue, downloaded on the way',
  { skip: skipOrFail(browserTestsUnavailable()), timeout: 300_000 },
  async () => {
    const archive = tarGzBytes([{ name: 'vgg16-bn/vgg16-bn.onnx', data: backboneFileBytes(6, 3) }]);
    const sha256 = createHash('sha256').update(archive).digest('hex');
    let requests = 0;
    // About 4 MB/s: the download takes a few seconds, long enough to see its progress.
    const server = createServer((_req, res) => {
      requests++;
      res.writeHead(200, { 'Content-Length': String(archive.length) });
      let at = 0;
      const step = () => {
        if (at >= archive.length) return void res.end();
        const chunk = archive.subarray(at, at + 256 * 1024);
        at += chunk.length;
        res.write(chunk, () => setTimeout(step, 60));
      };
      step();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/models/vgg16_bn-6c64b313.pth`;
    // The stand-in is an ONNX .tar.gz, so the entry's form says so (downloads must match it).
    const undo = overrideCatalogueEntryForTests('torchvision-vgg16bn', {
      url,
      checksum: { kind: 'sha256-prefix', value: sha256.slice(0, 8) },
      form: 'onnx-tar-gz',
    });
    const session = await openBrowserSession();
    const { page } = session;
    const pageErrors = pageErrorsOf(page);
    try {
      await page.goto(session.app.server.openUrl);
      await page.getByRole('complementary', { name: 'Tip: ImageNet weights' }).waitFor();
      await page.getByLabel('Folder').fill(session.dataset);
      await page.getByRole('button', { name: 'Add dataset' }).click();
      await page.getByRole('heading', { name: 'Classes' }).waitFor();

      await page.getByRole('tab', { name: 'Train' }).click();
      const hint = page.getByRole('complementary', { name: 'Tip: ImageNet weights' });
      await hint.filter({ hasText: /needs\s+one\s+download\s+of\s+528\s+MB\s+from\s+torchvision/ }).waitFor();
      const label = 'ImageNet VGG16_bn (torchvision, 528 MB, not downloaded yet)';
      await page.getByLabel('Start from').selectOption({ label });
      await page.getByText('Starting downloads it first').waitFor();
      await page.getByText('Advanced settings').click();
      await page.getByLabel('Input size (px)', { exact: true }).selectOption('32');
      await page.getByLabel('Epochs', { exact: true }).fill('1');
      await page.getByLabel('Batch size', { exact: true }).fill('8');
      await look(page, 'catalogue-chosen');
      await page.getByRole('button', { name: 'Start training' }).click();

      // The download shows its progress and speed in the form, then the run starts.
      const form = page.getByRole('form', { name: 'New run' });
      await form
        .getByRole('status')
        .filter({ hasText: /^Downloading: .* MiB of .* MiB, .* MiB\/s/ })
        .waitFor();
      await form.getByRole('progressbar').waitFor();
      await look(page, 'catalogue-downloading');
      await page.getByTestId('run-status').filter({ hasText: 'completed' }).waitFor({ timeout: 240_000 });
      await page.getByRole('cell', { name: new RegExp(`from ${sha256}\\.tar\\.gz$`) }).waitFor();
      assert.equal(requests, 1);
      // Downloaded now: it is an ordinary backbone, offered under its title, and the hint is gone.
      await page
        .getByLabel('Start from')
        .locator('option', { hasText: /^ImageNet VGG16_bn \(torchvision\)$/ })
        .waitFor({ state: 'attached' });
      assert.equal(await hint.count(), 0);
      await look(page, 'catalogue-trained');

      await page.getByRole('tab', { name: 'Models' }).click();
      const panel = page.getByRole('region', { name: 'Pretrained backbones' });
      await panel
        .getByRole('row')
        .filter({ hasText: 'ImageNet VGG16_bn (torchvision)' })
        .getByText('Downloaded')
        .waitFor();
      await panel
        .getByRole('button', { name: 'Download ImageNet VGG16_bn (timm copy of torchvision, safetensors)' })
        .waitFor();
      await look(page, 'catalogue-models');
      assert.deepEqual(pageErrors, []);
    } finally {
      undo();
      server.closeAllConnections();
      server.close();
      await session.close();
    }
  },
);
