// Regenerates the screenshots of every screen under docs/screenshots/ (README and docs use them): starts
// the app in browser mode on a tiny generated dataset, trains a short run, and photographs each screen
// in the light theme, two in the dark theme, and one at 200 % zoom. Needs Debian's Chromium and the
// built renderer. Usage: npm run screenshots
import { mkdir } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import {
  browserTestsUnavailable,
  openBrowserSession,
  startTinyRun,
  type BrowserSession,
} from '../test/e2e/browser-session.js';

const OUT = 'docs/screenshots';
const SCREENSHOT_TRAINING = {
  inputSize: '64',
  width: '0.125',
  epochs: '6',
  batchSize: '32',
  optimizer: 'adam',
  lr: '0.002',
};

async function shot(page: Page, name: string): Promise<void> {
  await page.waitForTimeout(400);
  await page.screenshot({ path: `${OUT}/${name}.png`, fullPage: true });
  console.log(`${OUT}/${name}.png`);
}

async function tour(session: BrowserSession, suffix: string, train: boolean): Promise<void> {
  const { page } = session;
  await page.goto(session.app.server.openUrl);
  if (train) {
    await page.getByLabel('Folder').fill(session.dataset);
    await page.getByRole('button', { name: 'Add dataset' }).click();
    await page.getByRole('heading', { name: 'Classes' }).waitFor();
  }
  await page.getByRole('tab', { name: 'Datasets' }).click();
  await page.locator('.thumbs img').first().waitFor();
  await shot(page, `datasets${suffix}`);
  if (train) {
    await startTinyRun(page, SCREENSHOT_TRAINING);
    await page.getByTestId('run-status').filter({ hasText: 'completed' }).waitFor({ timeout: 900_000 });
  } else await page.getByRole('tab', { name: 'Train' }).click();
  await shot(page, `train${suffix}`);
  await page.getByRole('tab', { name: 'Evaluate' }).click();
  await page.locator('.tile').first().click();
  await page.getByTestId('attention-view').locator('canvas').first().waitFor();
  await shot(page, `evaluate${suffix}`);
  await page.getByRole('tab', { name: 'Attention' }).click();
  await page.locator('.tile').first().click();
  await page.getByTestId('attention-view').locator('canvas').first().waitFor();
  await shot(page, `attention${suffix}`);
  if (!suffix) {
    await page.getByRole('tab', { name: 'Classify' }).click();
    await shot(page, 'classify');
    await page.getByRole('tab', { name: 'Models' }).click();
    await shot(page, 'models');
  }
}

async function main(): Promise<void> {
  const unavailable = browserTestsUnavailable();
  if (unavailable) {
    console.error(`Cannot take screenshots: ${unavailable}.`);
    process.exit(1);
  }
  await mkdir(OUT, { recursive: true });
  // A model that has learnt something, so the maps show where it looks (about a minute or two on a CPU).
  const session = await openBrowserSession({
    shapes: { classes: 3, size: 64, counts: { train: 100, val: 20, test: 20 }, seed: 1 },
  });
  try {
    await tour(session, '', true);
    // The same workspace in the dark theme, and at 200 % zoom (half the CSS width, twice the pixels).
    const dark = await session.browser.newContext({
      viewport: { width: 1280, height: 860 },
      colorScheme: 'dark',
    });
    await tour({ ...session, page: await dark.newPage() }, '-dark', false);
    const zoomed = await session.browser.newContext({
      viewport: { width: 640, height: 860 },
      deviceScaleFactor: 2,
    });
    const page = await zoomed.newPage();
    await page.goto(session.app.server.openUrl);
    await page.getByRole('tab', { name: 'Train' }).click();
    await shot(page, 'train-zoom-200');
  } finally {
    await session.close();
  }
}

await main();
