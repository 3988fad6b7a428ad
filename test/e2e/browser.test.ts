// End to end in browser mode, with Debian's Chromium against the real services: add a generated shapes
// dataset (with one broken file, opened from the problem list), start a short training run, watch its
// progress events arrive in the page, measure the page's long tasks while it trains, open the evaluation
// and the attention gallery, export the model, classify a folder with heat-maps and export the results
// into a folder: the CSV has a line per file and the overlay PNGs decode. The Electron variant
// runs only where the Electron binary is installed, and says why it is skipped otherwise.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import {
  browserTestsUnavailable,
  openBrowserSession,
  pageErrorsOf,
  startTinyRun,
  until,
} from './browser-session.js';
import { skipOrFail } from '../helpers/skip-or-fail.js';

/** The bound asserted on the page's longest task while training runs (generous: a shared 2-core machine). */
const LONG_TASK_LIMIT_MS = 1000;

test(
  'browser mode: dataset, live training, evaluation, attention gallery, export, classification',
  { skip: skipOrFail(browserTestsUnavailable()), timeout: 600_000 },
  async () => {
    const session = await openBrowserSession();
    const { page } = session;
    const pageErrors = pageErrorsOf(page);
    try {
      // Runs in the page before its own scripts (a string: this file is type-checked for Node).
      await page.addInitScript({
        content: `window.longTasks = [];
        new PerformanceObserver((list) => {
          for (const entry of list.getEntries()) window.longTasks.push(entry.duration);
        }).observe({ type: 'longtask', buffered: true });`,
      });
      // A file that is not a picture: the scan lists it, and "Open" shows its path and why there is no preview.
      await writeFile(join(session.dataset, 'train', 'circle', 'broken.png'), 'not a picture');
      await page.goto(session.app.server.openUrl);
      await page.getByRole('heading', { name: 'Datasets' }).waitFor();

      // Datasets: add the folder by its path; classes with counts and thumbnails appear.
      await page.getByLabel('Folder').fill(session.dataset);
      await page.getByRole('button', { name: 'Add dataset' }).click();
      await page.getByRole('heading', { name: 'Classes' }).waitFor();
      const rows = page.locator('table').first().locator('tbody tr');
      assert.equal(await rows.count(), 3);
      assert.match((await rows.first().innerText()).replace(/\s+/g, ' '), /circle 22 12 4 6/);
      await page.locator('.thumbs img').first().waitFor();
      // The shapes dataset's boxes.json gives every usable picture a box.
      assert.match(
        await page.getByTestId('scan-boxes').innerText(),
        /^(\d+) of \1 pictures have object boxes/,
      );
      await page.getByRole('button', { name: /^Open .*broken\.png$/ }).click();
      const dialog = page.getByTestId('file-dialog');
      await dialog.getByRole('button', { name: 'Copy path' }).waitFor();
      assert.equal(
        await dialog.getByLabel('Full path').inputValue(),
        join(session.dataset, 'train', 'circle', 'broken.png'),
      );
      await dialog.getByText(/No preview/).waitFor();
      await dialog.getByRole('button', { name: 'Close' }).click();
      await dialog.waitFor({ state: 'hidden' });

      // The long-task observer works here: a 150 ms busy task of the page's own is recorded (a script
      // evaluated by the driver is not a page task, so the loop runs from a timer).
      await page.evaluate(
        'setTimeout(() => { const t = performance.now(); while (performance.now() - t < 150) {} }, 0)',
      );
      await until('the busy loop as a long task', async () =>
        (await page.evaluate<number[]>('window.longTasks')).some((d) => d >= 150),
      );

      // Train: a short run; progress events arrive in the page while it trains.
      const before = await page.evaluate<number>('window.longTasks.length');
      await startTinyRun(page);
      await page
        .getByTestId('run-status')
        .filter({ hasText: /starting|training/ })
        .waitFor();
      await until(
        'a progress event in the page',
        async () => Number(await page.getByTestId('events-received').innerText()) > 0,
      );
      await page
        .getByTestId('step')
        .filter({ hasText: /^[1-9]\d* \/ \d+$/ })
        .waitFor();
      await page.getByTestId('run-status').filter({ hasText: 'completed' }).waitFor({ timeout: 300_000 });
      const events = Number(await page.getByTestId('events-received').innerText());
      assert.ok(events >= 5, `progress events reached the page (${events})`);
      assert.ok((await page.locator('svg polyline').count()) >= 2, 'the loss and accuracy charts have lines');
      const longTasks = await page.evaluate<number[]>(`window.longTasks.slice(${before})`);
      const worst = longTasks.length ? Math.max(...longTasks) : 0;
      console.log(
        `# long tasks while training: ${longTasks.length}, worst ${worst.toFixed(0)} ms (limit ${LONG_TASK_LIMIT_MS} ms)`,
      );
      assert.ok(worst < LONG_TASK_LIMIT_MS, `the page's longest task while training was ${worst} ms`);

      // Evaluate: the confusion matrix adds up to the test images; a cell opens its images.
      await page.getByRole('tab', { name: 'Evaluate' }).click();
      await page.getByRole('heading', { name: /Accuracy on the test images/ }).waitFor();
      const cells = page.locator('button.cell');
      assert.equal(await cells.count(), 9);
      let total = 0;
      for (const text of await cells.allInnerTexts()) total += Number(text);
      assert.equal(total, 18);
      // Where the model looks: the pointing game per level and combined, on the 18 test pictures.
      const localisation = page.getByTestId('localisation-table');
      assert.equal(await localisation.locator('tbody tr').count(), 4);
      assert.match(await localisation.locator('caption').innerText(), /on 18 pictures with object boxes/);
      await page.locator('button.cell:not([disabled])').first().click();
      await page.getByRole('heading', { name: /^True \w+, predicted \w+$/ }).waitFor();

      // Attention gallery: pick an image; its picture, three maps and the combination are drawn.
      await page.getByRole('tab', { name: 'Attention' }).click();
      await page.getByText('18 images').waitFor();
      await page.locator('.tile').first().click();
      const view = page.getByTestId('attention-view');
      await view.getByText(/^Prediction:/).waitFor();
      assert.equal(await view.locator('canvas').count(), 6, 'large view, combined, three levels, image');
      // The picture's box from the dataset is outlined over the maps.
      await view.getByTestId('attention-boxes').getByText('The object box from the dataset').waitFor();
      await page.getByLabel('Prediction').selectOption('wrong');
      await page.getByText(/^\d+ images?$/).waitFor();

      // Models: export the run (in a worker on the Node side); it is listed with its classes.
      await page.getByRole('tab', { name: 'Models' }).click();
      await page.getByRole('button', { name: 'Export', exact: true }).click();
      await page
        .getByRole('status')
        .filter({ hasText: /^Exported to .*\.onnx/ })
        .waitFor({ timeout: 60_000 });
      await page.locator('td.path', { hasText: /\.onnx$/ }).waitFor();

      // Classify: a folder of new pictures plus a file that is not one, with level-2 inferno overlays.
      const folder = join(session.dir, 'new-pictures');
      await mkdir(folder);
      let pictures = 0;
      const classes = (await readdir(join(session.dataset, 'test'))).sort();
      for (const label of classes)
        for (const name of await readdir(join(session.dataset, 'test', label))) {
          await copyFile(join(session.dataset, 'test', label, name), join(folder, `${label}-${name}`));
          pictures++;
        }
      await writeFile(join(folder, 'notes.jpg'), 'not a picture');
      const beforeClassify = await page.evaluate<number>('window.longTasks.length');
      await page.getByRole('tab', { name: 'Classify' }).click();
      await page.getByLabel('Folder of pictures').fill(folder);
      await page.getByLabel('Attention map').selectOption('2');
      await page.getByLabel('Colour map').selectOption('inferno');
      await page.getByRole('button', { name: 'Classify', exact: true }).click();
      const status = page.getByTestId('classify-status');
      await status.getByText('completed').waitFor({ timeout: 120_000 });
      await page
        .getByTestId('classify-rows')
        .filter({ hasText: new RegExp(`^${pictures + 1} rows$`) })
        .waitFor();
      const table = page.getByRole('table', { name: 'Classification results' });
      await table
        .getByRole('img', { name: /^Attention overlay of / })
        .first()
        .waitFor();
      await table
        .getByRole('img', { name: /\.png$/ })
        .first()
        .waitFor();
      const rendered = await table.getByRole('row').count();
      assert.ok(rendered > 1 && rendered <= pictures + 2, `rows are rendered (${rendered})`);
      await page.getByRole('heading', { name: 'Files that could not be used (1)' }).waitFor();

      // Export the results into a folder picked by its path; then check the files themselves.
      const target = join(session.dir, 'exported');
      await mkdir(target);
      await page.getByLabel('Into folder').fill(target);
      await page.getByRole('button', { name: 'Export', exact: true }).click();
      await page.getByTestId('export-done').waitFor();
      const classifyTasks = await page.evaluate<number[]>(`window.longTasks.slice(${beforeClassify})`);
      const worstClassify = classifyTasks.length ? Math.max(...classifyTasks) : 0;
      console.log(
        `# long tasks while classifying and exporting: ${classifyTasks.length}, worst ${worstClassify.toFixed(0)} ms (limit ${LONG_TASK_LIMIT_MS} ms)`,
      );
      assert.ok(
        worstClassify < LONG_TASK_LIMIT_MS,
        `the page's longest task while classifying was ${worstClassify} ms`,
      );

      const csv = (await readFile(join(target, 'results.csv'), 'utf8')).trim().split(/\r?\n/);
      const header = csv[0].split(',');
      const rowsOf = csv.slice(1).map((line) => line.split(','));
      const files = rowsOf.map((r) => r[header.indexOf('file')].split(/[\\/]/).pop());
      assert.deepEqual(
        files.sort(),
        [...(await readdir(folder))].sort(),
        'one CSV line per file of the folder',
      );
      const ok = rowsOf.filter((r) => r[header.indexOf('status')] === 'ok');
      assert.equal(ok.length, pictures);
      for (const r of ok) assert.ok(classes.includes(r[header.indexOf('label')]), r.join(','));
      const overlays = ok.map((r) => r[header.indexOf('overlay')]);
      for (const overlay of overlays) {
        const meta = await sharp(join(target, ...overlay.split('/'))).metadata();
        assert.equal(meta.format, 'png');
        assert.ok(
          (meta.width ?? 0) >= 32 && meta.width === meta.height,
          `${overlay} decodes as a square PNG`,
        );
      }
      const json = JSON.parse(await readFile(join(target, 'results.json'), 'utf8')) as {
        settings: { level: string; colormap: string };
        results: unknown[];
      };
      assert.equal(json.results.length, pictures + 1);
      assert.deepEqual([json.settings.level, json.settings.colormap], ['2', 'inferno']);
      assert.deepEqual(pageErrors, []);
    } finally {
      await session.close();
    }
  },
);

test(
  'browser mode: the results of a classification of 5,000 files scroll without drawing them all',
  { skip: skipOrFail(browserTestsUnavailable()), timeout: 180_000 },
  async () => {
    const session = await openBrowserSession();
    const { page } = session;
    try {
      // A finished classification as the task worker leaves it, made here: 5,000 rows over the test
      // pictures (the folder the user classified), every 50th a file that could not be used.
      const folder = join(session.dataset, 'test');
      const pictures: string[] = [];
      for (const label of (await readdir(folder)).sort())
        for (const name of (await readdir(join(folder, label))).sort())
          pictures.push(join(folder, label, name));
      const ROWS = 5000;
      const results = Array.from({ length: ROWS }, (_, i) => {
        const path = pictures[i % pictures.length];
        const failed = i % 50 === 49;
        return {
          file: path,
          path,
          status: failed ? 'failed' : 'ok',
          label: failed ? null : `class-${i % 3}`,
          uncertain: false,
          top: failed
            ? []
            : [
                { label: `class-${i % 3}`, probability: 0.9 },
                { label: 'other', probability: 0.1 },
              ],
          ms: 1,
          bytes: 1,
          mtimeMs: 1,
          ...(failed ? { error: { reason: 'corrupt', message: `Row ${i} could not be read.` } } : {}),
        };
      });
      const outDir = join(session.app.backend.workspace.classificationsDir, 'big-job');
      await mkdir(outDir, { recursive: true });
      const stamp = new Date().toISOString();
      await writeFile(
        join(outDir, 'results.json'),
        JSON.stringify({ format: 'attnvgg-classify/1', complete: true, skipped: [], results }),
      );
      await writeFile(
        join(outDir, 'job.json'),
        JSON.stringify({
          format: 'attnvgg-classify-job/1',
          id: 'big-job',
          status: 'completed',
          modelId: 'm',
          modelPath: '/nowhere/m.onnx',
          classes: ['class-0', 'class-1', 'class-2'],
          folder,
          outDir,
          options: { heatmaps: false, level: 'combined', colormap: 'turbo', opacity: 0.5, threshold: 0 },
          startedAt: stamp,
          updatedAt: stamp,
          progress: { done: ROWS, total: ROWS, failed: ROWS / 50, imagesPerSecond: 100, etaSeconds: 0 },
          message: 'Classified in a test.',
        }),
      );
      await page.addInitScript({
        content: `window.longTasks = [];
        new PerformanceObserver((list) => {
          for (const entry of list.getEntries()) window.longTasks.push(entry.duration);
        }).observe({ type: 'longtask', buffered: true });`,
      });
      // The address of one screen with the token: `#/<screen>?token=…`.
      await page.goto(`${session.app.server.url}#/classify?token=${session.app.server.token}`);
      await page
        .getByTestId('classify-rows')
        .filter({ hasText: `${ROWS} rows` })
        .waitFor();
      const table = page.getByRole('table', { name: 'Classification results' });
      await table
        .getByRole('row', { name: /circle\/0000\.png/ })
        .first()
        .waitFor();
      const drawn = await table.getByRole('row').count();
      assert.ok(drawn < 60, `only the rows in view are drawn (${drawn} of ${ROWS})`);
      const before = await page.evaluate<number>('window.longTasks.length');
      const viewport = table.getByRole('rowgroup', { name: /scroll to see more rows/ });
      for (let step = 1; step <= 10; step++) {
        await viewport.evaluate((el, f) => el.scrollTo(0, el.scrollHeight * f), step / 10);
        await page.waitForTimeout(60);
      }
      await table.getByText(`Row ${ROWS - 1} could not be read.`).waitFor();
      assert.ok((await table.getByRole('row').count()) < 60, 'still only the rows in view');
      const tasks = await page.evaluate<number[]>(`window.longTasks.slice(${before})`);
      const worst = tasks.length ? Math.max(...tasks) : 0;
      console.log(`# long tasks while scrolling ${ROWS} rows: ${tasks.length}, worst ${worst.toFixed(0)} ms`);
      assert.ok(worst < LONG_TASK_LIMIT_MS, `the page's longest task while scrolling was ${worst} ms`);
      await page.getByLabel('Show').selectOption('problems');
      await page
        .getByTestId('classify-rows')
        .filter({ hasText: `${ROWS / 50} rows` })
        .waitFor();
      await page.getByRole('heading', { name: `Files that could not be used (${ROWS / 50})` }).waitFor();
    } finally {
      await session.close();
    }
  },
);

function electronUnavailable(): string | null {
  try {
    const path = createRequire(import.meta.url)('electron') as unknown;
    if (typeof path === 'string' && existsSync(path)) return null;
  } catch {
    // The electron package throws when its binary was never downloaded (install scripts are off).
  }
  return 'the Electron binary is not installed (npm run setup:native fetches it where the network allows)';
}

test(
  'Electron: the window opens the app over IPC',
  { skip: electronUnavailable() ?? false, timeout: 300_000 },
  async () => {
    const { _electron } = await import('playwright-core');
    const { spawnSync } = await import('node:child_process');
    const { mkdtemp, rm } = await import('node:fs/promises');
    const os = await import('node:os');
    const { join } = await import('node:path');
    const build = spawnSync(
      process.execPath,
      ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'],
      { stdio: 'inherit' },
    );
    assert.equal(build.status, 0, 'the main process compiles');
    const workspace = await mkdtemp(join(os.tmpdir(), 'attnvgg-electron-'));
    const app = await _electron.launch({ args: ['.', '--workspace', workspace] });
    try {
      const page = await app.firstWindow();
      await page.getByRole('heading', { name: 'Datasets' }).waitFor();
      assert.match(page.url(), /^app:\/\/attnvgg\/index\.html/, 'the pages come from app://, not file://');
      const exposed = await page.evaluate<string[]>('Object.keys(window.attnvgg).sort()');
      assert.deepEqual(exposed, ['invoke', 'onEvent', 'pathForFile']);
      assert.equal(await page.evaluate<string>('typeof require + typeof process'), 'undefinedundefined');
      await page.getByText('Backend:').waitFor();
    } finally {
      await app.close();
      await rm(workspace, { recursive: true, force: true });
    }
  },
);
