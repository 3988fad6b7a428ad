// End to end in browser mode, with Debian's Chromium against the real services: add a generated shapes
// dataset, start a short training run, watch its progress events arrive in the page, measure the page's
// long tasks while it trains, then open the evaluation and the attention gallery. The Electron variant
// runs only where the Electron binary is installed, and says why it is skipped otherwise.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { browserTestsUnavailable, openBrowserSession, startTinyRun } from './browser-session.js';

/** Polls `check` (the page's CSP forbids the string evaluation waitForFunction uses). */
async function until(what: string, check: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The bound asserted on the page's longest task while training runs (generous: a shared 2-core machine). */
const LONG_TASK_LIMIT_MS = 1000;

test(
  'browser mode: dataset, live training, evaluation and attention gallery',
  { skip: browserTestsUnavailable() ?? false, timeout: 600_000 },
  async () => {
    const session = await openBrowserSession();
    const { page } = session;
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    try {
      // Runs in the page before its own scripts (a string: this file is type-checked for Node).
      await page.addInitScript({
        content: `window.longTasks = [];
        new PerformanceObserver((list) => {
          for (const entry of list.getEntries()) window.longTasks.push(entry.duration);
        }).observe({ type: 'longtask', buffered: true });`,
      });
      await page.goto(session.app.server.openUrl);
      await page.getByRole('heading', { name: 'Datasets' }).waitFor();

      // Datasets: add the folder by its path; classes with counts and thumbnails appear.
      await page.getByLabel('Folder').fill(session.dataset);
      await page.getByRole('button', { name: 'Add dataset' }).click();
      await page.getByRole('heading', { name: 'Classes' }).waitFor();
      const rows = page.locator('table tbody tr');
      assert.equal(await rows.count(), 3);
      assert.match((await rows.first().innerText()).replace(/\s+/g, ' '), /circle 22 12 4 6/);
      await page.locator('.thumbs img').first().waitFor();

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
      await page.locator('button.cell:not([disabled])').first().click();
      await page.getByRole('heading', { name: /^True \w+, predicted \w+$/ }).waitFor();

      // Attention gallery: pick an image; its picture, three maps and the combination are drawn.
      await page.getByRole('tab', { name: 'Attention' }).click();
      await page.getByText('18 images').waitFor();
      await page.locator('.tile').first().click();
      const view = page.getByTestId('attention-view');
      await view.getByText(/^Prediction:/).waitFor();
      assert.equal(await view.locator('canvas').count(), 6, 'large view, combined, three levels, image');
      await page.getByLabel('Prediction').selectOption('wrong');
      await page.getByText(/^\d+ images?$/).waitFor();
      assert.deepEqual(pageErrors, []);
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
