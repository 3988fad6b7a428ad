// `attnvgg serve` in a checkout whose pages were never built (right after `npm ci`): the sources'
// renderer/index.html (which loads /src/main.ts) is not taken for the app; serve builds the pages first,
// with the message `npm start` prints, and the page opened in Chromium shows the Datasets screen,
// connected. Runs in a temporary copy of the project's sources with this checkout's node_modules.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cp, mkdtemp, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { until as valueOf } from '../helpers/until.js';
import { browserTestsUnavailable, CHROMIUM, CHROMIUM_ARGS, pageErrorsOf, until } from './browser-session.js';
import { skipOrFail } from '../helpers/skip-or-fail.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SOURCES = [
  'main',
  'models',
  'renderer',
  'scripts',
  'package.json',
  'vite.config.ts',
  'svelte.config.js',
  'tsconfig.json',
  'tsconfig.web.json',
];

test(
  'serve in a checkout without built pages builds them, and the page shows the Datasets screen',
  {
    skip: skipOrFail(browserTestsUnavailable()),
    timeout: 300_000,
  },
  async () => {
    const dir = await mkdtemp(join(os.tmpdir(), 'attnvgg-unbuilt-'));
    const root = join(dir, 'attnvgg');
    for (const name of SOURCES) await cp(join(ROOT, name), join(root, name), { recursive: true });
    await symlink(join(ROOT, 'node_modules'), join(root, 'node_modules'), 'dir');
    let output = '';
    const child = spawn(
      process.execPath,
      [join(root, 'scripts', 'attnvgg.mjs'), 'serve', '--workspace', join(dir, 'workspace')],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout.on('data', (chunk) => (output += String(chunk)));
    child.stderr.on('data', (chunk) => (output += String(chunk)));
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    try {
      // The copy's own lookup does not take its renderer/ sources for built pages.
      const files = (await import(pathToFileURL(join(root, 'main', 'server', 'renderer-files.ts')).href)) as {
        findRendererDir(): string | null;
      };
      assert.equal(files.findRendererDir(), null, 'the sources are not a built renderer');

      const address = await valueOf(
        'the printed address',
        () =>
          /^http:\/\/127\.0\.0\.1:\d+\/#token=[\w-]+$/m.exec(output)?.[0] ??
          (child.exitCode !== null && 'exited'),
        240_000,
      );
      assert.notEqual(address, 'exited', output);
      assert.match(output, /^Building the app pages \(vite\) \.\.\.$/m);
      assert.equal(files.findRendererDir(), join(root, 'dist', 'renderer/'));

      const page = await browser.newPage();
      const errors = pageErrorsOf(page);
      await page.goto(address);
      await page.getByRole('heading', { name: 'Datasets' }).waitFor({ timeout: 30_000 });
      await until('the API connection', async () => (await page.getByText('Not connected').count()) === 0);
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      child.kill('SIGTERM');
      await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)));
      await rm(dir, { recursive: true, force: true });
    }
  },
);
