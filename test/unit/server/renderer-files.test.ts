// Which folder counts as the built renderer: Vite's output (a page whose scripts are built files beside
// it), never the sources' page that loads /src/main.ts; and where `attnvgg serve` may build the pages
// itself (a checkout with the sources and Vite) or must refuse with RENDERER_MISSING.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { sourceCheckoutRoot } from '../../../main/cli/build-renderer.js';
import { findRendererDir, isBuiltRenderer } from '../../../main/server/renderer-files.js';

let dir = '';
const page = (script: string) =>
  `<!doctype html><div id="app"></div><script type="module" src="${script}"></script>`;

before(async () => {
  dir = await mkdtemp(join(os.tmpdir(), 'attnvgg-renderer-files-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function site(name: string, html: string, files: string[] = []): Promise<string> {
  const folder = join(dir, name);
  await mkdir(folder, { recursive: true });
  await writeFile(join(folder, 'index.html'), html);
  for (const file of files) {
    await mkdir(join(folder, file, '..'), { recursive: true });
    await writeFile(join(folder, file), '');
  }
  return folder;
}

test('a built renderer loads built scripts that exist; the sources and broken builds do not count', async () => {
  assert.equal(
    isBuiltRenderer(await site('built', page('./assets/index-AbC123.js'), ['assets/index-AbC123.js'])),
    true,
  );
  assert.equal(isBuiltRenderer(await site('sources', page('./src/main.ts'), ['src/main.ts'])), false);
  assert.equal(isBuiltRenderer(await site('svelte', page('/App.svelte'), ['App.svelte'])), false);
  assert.equal(isBuiltRenderer(await site('missing', page('./assets/index-gone.js'))), false);
  assert.equal(isBuiltRenderer(await site('remote', page('https://cdn.example/app.js'))), false);
  assert.equal(isBuiltRenderer(await site('no-script', '<!doctype html><title>x</title>')), false);
  assert.equal(isBuiltRenderer(join(dir, 'nothing-here')), false);
});

test('the lookup skips a sources folder and finds dist/renderer, from the sources and the compiled app', async () => {
  const root = join(dir, 'project');
  await site('project/renderer', page('./src/main.ts'), ['src/main.ts']);
  const fromSources = pathToFileURL(join(root, 'main', 'server', 'renderer-files.ts')).href;
  const fromCompiled = pathToFileURL(join(root, 'dist', 'main', 'server', 'renderer-files.js')).href;
  assert.equal(findRendererDir(fromSources), null);
  await site('project/dist/renderer', page('./assets/index-1.js'), ['assets/index-1.js']);
  assert.equal(findRendererDir(fromSources), join(root, 'dist', 'renderer/'));
  assert.equal(findRendererDir(fromCompiled), join(root, 'dist', 'renderer/'));
});

test('serve builds only in a checkout with the sources and Vite; elsewhere it refuses', async () => {
  const root = join(dir, 'checkout');
  await mkdir(join(root, 'renderer', 'src'), { recursive: true });
  await writeFile(join(root, 'renderer', 'src', 'main.ts'), '');
  await writeFile(join(root, 'vite.config.ts'), '');
  const cli = pathToFileURL(join(root, 'main', 'cli', 'build-renderer.ts')).href;
  assert.equal(sourceCheckoutRoot(cli), null, 'no Vite installed: RENDERER_MISSING');
  await mkdir(join(root, 'node_modules', 'vite'), { recursive: true });
  await writeFile(join(root, 'node_modules', 'vite', 'package.json'), '{}');
  assert.equal(sourceCheckoutRoot(cli), `${root}/`);
  const compiled = pathToFileURL(join(root, 'dist', 'main', 'cli', 'build-renderer.js')).href;
  assert.equal(sourceCheckoutRoot(compiled), `${root}/`);
});
