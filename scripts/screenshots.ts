// Regenerates the screenshots of every screen under docs/screenshots/ (README and docs use them): starts
// the app in browser mode on a generated shapes dataset (with one broken file, so the problem list shows),
// trains a short run, compares the attention model with the plain one on the same data, exports the run,
// classifies a folder with heat-map overlays, adds a pretrained backbone, and photographs each screen in the light and the dark
// theme, the "open" dialog, two screens at 200 % zoom and the keyboard focus.
// Needs Debian's Chromium and the built renderer. Usage: npm run screenshots [-- --only datasets,evaluate]
// (--only NAMES: just those screens, in both themes, after the training run; no comparison, export,
// classification or zoomed shots: for updating a few screenshots without the long tour; train-backbone
// is the light theme's new-run form from a backbone).
import { copyFile, mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { createRandom } from '../models/core/random.js';
import { validateSpec } from '../models/core/spec.js';
import { initWeights } from '../models/core/weights.js';
import { exportBackboneOnnx } from '../models/onnx/export.js';
import {
  browserTestsUnavailable,
  openBrowserSession,
  startTinyRun,
  type BrowserSession,
} from '../test/e2e/browser-session.js';

const OUT = 'docs/screenshots';
const onlyArg = process.argv.indexOf('--only');
/** The screens to photograph (all when --only is not given). */
const ONLY = onlyArg >= 0 ? new Set(process.argv[onlyArg + 1]?.split(',')) : null;
const want = (screen: string): boolean => !ONLY || ONLY.has(screen);
/** The comparison on the Compare screen: the benchmark's settings (bench/RESULTS.md, "#8 compare"). */
const SCREENSHOT_COMPARISON = {
  inputSize: '64',
  width: '0.125',
  epochs: '6',
  optimizer: 'adam',
  lr: '0.002',
};
const SCREENSHOT_TRAINING = {
  inputSize: '64',
  width: '0.125',
  epochs: '10',
  batchSize: '32',
  optimizer: 'adam',
  lr: '0.002',
};

async function shot(page: Page, name: string, fullPage = true): Promise<void> {
  await page.waitForTimeout(400);
  await page.screenshot({ path: `${OUT}/${name}.png`, fullPage });
  console.log(`${OUT}/${name}.png`);
}

/** A folder of "new" pictures to classify: the test pictures of every class, and one broken file. */
async function newPictures(session: BrowserSession): Promise<string> {
  const folder = join(session.dir, 'new-pictures');
  await mkdir(folder, { recursive: true });
  for (const label of await readdir(join(session.dataset, 'test')))
    for (const name of await readdir(join(session.dataset, 'test', label)))
      await copyFile(join(session.dataset, 'test', label, name), join(folder, `${label}-${name}`));
  await writeFile(join(folder, 'scan-0042.jpg'), 'this file was cut off while copying');
  return folder;
}

/** A VGG16_bn backbone file with random weights, as torchvision's export would be (width 1.0). */
async function backboneFile(session: BrowserSession): Promise<string> {
  const spec = validateSpec({
    inputSize: 224,
    width: 1,
    numClasses: 4,
    attention: true,
    compatibility: 'pc',
    normalisation: 'softmax',
  });
  const file = join(session.dir, 'models', 'vgg16_bn.onnx');
  await mkdir(join(session.dir, 'models'), { recursive: true });
  await writeFile(file, exportBackboneOnnx(spec, initWeights(spec, createRandom(0))));
  return file;
}

async function tour(session: BrowserSession, suffix: string, first: boolean): Promise<void> {
  const { page } = session;
  await page.goto(session.app.server.openUrl);
  if (first) {
    await writeFile(join(session.dataset, 'train', 'circle', 'broken.png'), 'not a picture');
    await page.getByLabel('Folder').fill(session.dataset);
    await page.getByRole('button', { name: 'Add dataset' }).click();
    await page.getByRole('heading', { name: 'Classes' }).waitFor();
  }
  await page.getByRole('tab', { name: 'Datasets' }).click();
  await page.locator('.thumbs img').first().waitFor();
  if (want('datasets')) await shot(page, `datasets${suffix}`);
  if (first) {
    await startTinyRun(page, SCREENSHOT_TRAINING);
    await page.getByTestId('run-status').filter({ hasText: 'completed' }).waitFor({ timeout: 900_000 });
  } else await page.getByRole('tab', { name: 'Train' }).click();
  if (want('train')) await shot(page, `train${suffix}`);
  if (want('compare')) await compareTour(session, suffix, first);
  await page.getByRole('tab', { name: 'Evaluate' }).click();
  await page.locator('.tile').first().click();
  await page.getByTestId('attention-view').locator('canvas').first().waitFor();
  if (want('evaluate')) await shot(page, `evaluate${suffix}`);
  await page.getByRole('tab', { name: 'Attention' }).click();
  await page.locator('.tile').first().click();
  await page.getByTestId('attention-view').locator('canvas').first().waitFor();
  if (want('attention')) await shot(page, `attention${suffix}`);
  if (ONLY) {
    if (first && want('train-backbone')) {
      await addBackbone(session);
      await trainBackboneShot(page);
    }
    return;
  }
  await modelsAndClassifyTour(session, suffix, first);
}

async function compareTour(session: BrowserSession, suffix: string, first: boolean): Promise<void> {
  const { page } = session;
  await page.getByRole('tab', { name: 'Compare' }).click();
  if (first) {
    await page.getByText('Advanced settings').click();
    await page.getByLabel('Input size (px)', { exact: true }).selectOption(SCREENSHOT_COMPARISON.inputSize);
    await page.getByLabel('Width', { exact: true }).selectOption(SCREENSHOT_COMPARISON.width);
    await page.getByLabel('Epochs', { exact: true }).fill(SCREENSHOT_COMPARISON.epochs);
    await page.getByLabel('Optimiser', { exact: true }).selectOption(SCREENSHOT_COMPARISON.optimizer);
    await page.getByLabel('Learning rate', { exact: true }).fill(SCREENSHOT_COMPARISON.lr);
    await page.getByRole('button', { name: 'Start comparison' }).click();
    await page.getByTestId('compare-verdict').waitFor({ timeout: 1_800_000 });
  }
  await page.getByTestId('compare-verdict').waitFor();
  const explanations = page.getByTestId('compare-explanations');
  await explanations
    .locator('img')
    .nth((await explanations.locator('li').count()) * 3 - 1)
    .waitFor();
  await shot(page, `compare${suffix}`);
}

/** Adds the random-weights backbone on the Models screen (nothing can be downloaded here). */
async function addBackbone(session: BrowserSession): Promise<void> {
  const { page } = session;
  await page.getByRole('tab', { name: 'Models' }).click();
  const backbones = page.getByRole('region', { name: 'Pretrained backbones' });
  await page.getByLabel(/^Weights file/).fill(await backboneFile(session));
  await backbones.getByRole('button', { name: 'Add', exact: true }).click();
  await backbones
    .getByRole('status')
    .getByText(/can be used/)
    .waitFor({ timeout: 120_000 });
}

/**
 * The new-run form from the backbone, advanced settings open: the settings of a run on cached features
 * show, with float32 chosen as the cache precision and the additive compatibility. Then back to random weights and the Models screen.
 */
async function trainBackboneShot(page: Page): Promise<void> {
  await page.getByRole('tab', { name: 'Train' }).click();
  await page.getByLabel('Start from').selectOption({ label: 'Pretrained backbone: vgg16_bn.onnx' });
  await page.getByText('Advanced settings').click();
  await page.getByLabel('Cached feature precision').selectOption('float32');
  await page.getByLabel('Attention compatibility').selectOption('additive');
  await shot(page, 'train-backbone');
  await page.getByLabel('Cached feature precision').selectOption('');
  await page.getByLabel('Attention compatibility').selectOption('');
  await page.getByLabel('Start from').selectOption({ index: 0 });
  await page.getByRole('tab', { name: 'Models' }).click();
}

async function modelsAndClassifyTour(session: BrowserSession, suffix: string, first: boolean): Promise<void> {
  const { page } = session;
  await page.getByRole('tab', { name: 'Models' }).click();
  if (first) {
    await page.getByRole('button', { name: 'Export', exact: true }).click();
    await page
      .getByRole('status')
      .filter({ hasText: /^Exported to / })
      .waitFor({ timeout: 300_000 });
  }
  await page.locator('td.path', { hasText: /\.onnx$/ }).waitFor();
  const backbones = page.getByRole('region', { name: 'Pretrained backbones' });
  if (first) await addBackbone(session);
  await backbones.getByRole('row').filter({ hasText: 'vgg16_bn.onnx' }).waitFor();
  await shot(page, `models${suffix}`);
  if (first) await trainBackboneShot(page);
  await page.getByRole('tab', { name: 'Classify' }).click();
  if (first) {
    await page.getByLabel('Folder of pictures').fill(await newPictures(session));
    await page.getByRole('button', { name: 'Classify', exact: true }).click();
    await page.getByTestId('classify-status').getByText('completed').waitFor({ timeout: 300_000 });
  }
  const results = page.getByRole('table', { name: 'Classification results' });
  await results
    .getByRole('img', { name: /^Attention overlay of / })
    .nth(3)
    .waitFor();
  await shot(page, `classify${suffix}`);
  if (first) {
    await page
      .getByRole('button', { name: /^Open .*scan-0042\.jpg$/ })
      .last()
      .click();
    await page
      .getByTestId('file-dialog')
      .getByText(/No preview/)
      .waitFor();
    await shot(page, 'open-file', false);
    await page.getByRole('button', { name: 'Close' }).click();
    await page
      .getByRole('button', { name: /^Open .*circle-0000\.png$/ })
      .first()
      .click();
    await page.getByTestId('file-dialog').getByRole('img').waitFor();
    await shot(page, 'open-file-preview', false);
    await page.getByRole('button', { name: 'Close' }).click();
  }
}

async function main(): Promise<void> {
  const unavailable = browserTestsUnavailable();
  if (unavailable) {
    console.error(`Cannot take screenshots: ${unavailable}.`);
    process.exit(1);
  }
  await mkdir(OUT, { recursive: true });
  // A model that has learnt something (the sample model's dataset: four classes, 400 training pictures
  // each), so the maps show where it looks: a minute or two on a CPU.
  const session = await openBrowserSession({
    shapes: { size: 64, counts: { train: 400, val: 50, test: 25 }, seed: 0 },
  });
  try {
    await tour(session, '', true);
    // The same workspace in the dark theme, and at 200 % zoom (half the CSS width, twice the pixels).
    const dark = await session.browser.newContext({
      viewport: { width: 1280, height: 860 },
      colorScheme: 'dark',
    });
    await tour({ ...session, page: await dark.newPage() }, '-dark', false);
    if (ONLY) return;
    const zoomed = await session.browser.newContext({
      viewport: { width: 640, height: 860 },
      deviceScaleFactor: 2,
    });
    const page = await zoomed.newPage();
    await page.goto(session.app.server.openUrl);
    await page.getByRole('tab', { name: 'Train' }).click();
    await shot(page, 'train-zoom-200');
    await page.getByRole('tab', { name: 'Classify' }).click();
    await page
      .getByRole('table', { name: 'Classification results' })
      .getByRole('img', { name: /^Attention overlay of / })
      .first()
      .waitFor();
    await shot(page, 'classify-zoom-200');
    // Keyboard focus: from the Classify tab, Tab moves into the screen; the focus ring must be visible.
    await page.getByRole('tab', { name: 'Classify' }).focus();
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    await shot(page, 'focus-zoom-200', false);
  } finally {
    await session.close();
  }
}

await main();
