// What the browser end-to-end test and the screenshot script share: a fresh workspace with a tiny
// generated shapes dataset, the app in browser mode on 127.0.0.1 (the real services, in this process),
// and Debian's Chromium driven by playwright-core (no browser download).
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { generateShapesDataset, type ShapesDatasetOptions } from '../../main/services/sample/index.js';
import { findRendererDir, serveBrowserMode, type BrowserMode } from '../../main/server/index.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Why the browser tests cannot run here, or null when they can. */
export function browserTestsUnavailable(): string | null {
  if (!existsSync(CHROMIUM)) return `no Chromium at ${CHROMIUM} (apt-get install chromium)`;
  if (!findRendererDir()) return 'the renderer is not built (npm run build:renderer)';
  return null;
}

export interface BrowserSession {
  dir: string;
  dataset: string;
  app: BrowserMode;
  browser: Browser;
  page: Page;
  close(): Promise<void>;
}

export interface SessionOptions {
  width?: number;
  height?: number;
  colorScheme?: 'light' | 'dark';
  /** The generated dataset (default: 3 classes of 32 px pictures, 12/4/6 per class and split). */
  shapes?: ShapesDatasetOptions;
}

export async function openBrowserSession(options: SessionOptions = {}): Promise<BrowserSession> {
  const dir = await mkdtemp(join(os.tmpdir(), 'attnvgg-e2e-'));
  const dataset = join(dir, 'shapes');
  await generateShapesDataset(
    dataset,
    options.shapes ?? { classes: 3, size: 32, counts: { train: 12, val: 4, test: 6 }, seed: 1 },
  );
  const app = await serveBrowserMode({ workspaceDir: join(dir, 'workspace'), checkResponses: true });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const context = await browser.newContext({
    viewport: { width: options.width ?? 1280, height: options.height ?? 860 },
    colorScheme: options.colorScheme ?? 'light',
  });
  const page = await context.newPage();
  return {
    dir,
    dataset,
    app,
    browser,
    page,
    async close() {
      await browser.close().catch(() => undefined);
      await app.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface RunSettingsInput {
  inputSize: string;
  width: string;
  epochs: string;
  batchSize: string;
  optimizer?: string;
  lr?: string;
}

/** Short training settings: S=32, width 1/16, 2 epochs: seconds on a CPU. */
export const TINY_TRAINING: RunSettingsInput = {
  inputSize: '32',
  width: '0.0625',
  epochs: '2',
  batchSize: '8',
};

/** Fills the Train screen's advanced settings (TINY_TRAINING by default) and starts the run. */
export async function startTinyRun(page: Page, settings: RunSettingsInput = TINY_TRAINING): Promise<void> {
  await page.getByRole('tab', { name: 'Train' }).click();
  await page.getByText('Advanced settings').click();
  await page.getByLabel('Input size (px)', { exact: true }).selectOption(settings.inputSize);
  await page.getByLabel('Width', { exact: true }).selectOption(settings.width);
  await page.getByLabel('Epochs', { exact: true }).fill(settings.epochs);
  await page.getByLabel('Batch size', { exact: true }).fill(settings.batchSize);
  if (settings.optimizer)
    await page.getByLabel('Optimiser', { exact: true }).selectOption(settings.optimizer);
  if (settings.lr) await page.getByLabel('Learning rate', { exact: true }).fill(settings.lr);
  await page.getByRole('button', { name: 'Start training' }).click();
}

/** Polls `check` (the page's CSP forbids the string evaluation waitForFunction uses). */
export async function until(what: string, check: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The page's uncaught errors, collected from now on (a test asserts the list stays empty). */
export function pageErrorsOf(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  return errors;
}
