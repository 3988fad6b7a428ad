// The app:// scheme of the desktop window, run in plain Node without the Electron binary: the handler
// serves the files of the renderer folder only (no traversal, no links out, no folders, no other host),
// with their MIME types and the desktop CSP as a header; the scheme's privileges; and app-window.ts
// binding it the Electron way (registered before ready, the window loading app://, not file://).
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createAppProtocolHandler, resolveAppFile } from '../../../main/electron/app-protocol.js';
import { APP_INDEX_URL, APP_ORIGIN, APP_SCHEME_DEFINITION } from '../../../main/electron/app-scheme.js';
import { desktopContentSecurityPolicy } from '../../../main/server/content-security-policy.js';

let dir: string;
let renderer: string;
before(async () => {
  dir = await mkdtemp(join(os.tmpdir(), 'attnvgg-app-protocol-'));
  renderer = join(dir, 'renderer');
  await mkdir(join(renderer, 'assets'), { recursive: true });
  await writeFile(join(renderer, 'index.html'), '<!doctype html><title>APP</title>');
  await writeFile(join(renderer, 'assets', 'index-abc123.js'), 'export const x = 1;');
  await writeFile(join(renderer, 'assets', 'index-abc123.css'), 'body{}');
  await writeFile(join(renderer, 'assets', 'logo.svg'), '<svg/>');
  await writeFile(join(renderer, 'assets', 'ort.wasm'), new Uint8Array([0, 97, 115, 109]));
  await writeFile(join(renderer, 'assets', 'blob.unknownext'), 'x');
  await writeFile(join(dir, 'secret.txt'), 'SECRET');
  await symlink(join(dir, 'secret.txt'), join(renderer, 'assets', 'link-out.js'));
  await symlink(dir, join(renderer, 'assets', 'dir-out'));
  await symlink(join(renderer, 'assets', 'index-abc123.js'), join(renderer, 'link-in.js'));
});
after(() => rm(dir, { recursive: true, force: true }));

const handler = () => createAppProtocolHandler(renderer);
const get = (url: string, method = 'GET') => handler()(new Request(url, { method }));

describe('the app:// handler', () => {
  it('serves the renderer’s files with their MIME type, the desktop CSP and nosniff', async () => {
    const cases: [string, string, string][] = [
      [APP_INDEX_URL, 'text/html; charset=utf-8', 'index.html'],
      [`${APP_ORIGIN}/`, 'text/html; charset=utf-8', 'index.html'],
      [`${APP_INDEX_URL}#/train`, 'text/html; charset=utf-8', 'index.html'],
      [`${APP_INDEX_URL}?theme=dark`, 'text/html; charset=utf-8', 'index.html'],
      [`${APP_ORIGIN}/assets/index-abc123.js`, 'text/javascript; charset=utf-8', 'assets/index-abc123.js'],
      [`${APP_ORIGIN}/assets/index-abc123.css`, 'text/css; charset=utf-8', 'assets/index-abc123.css'],
      [`${APP_ORIGIN}/assets/logo.svg`, 'image/svg+xml', 'assets/logo.svg'],
      [`${APP_ORIGIN}/assets/ort.wasm`, 'application/wasm', 'assets/ort.wasm'],
      [`${APP_ORIGIN}/assets/blob.unknownext`, 'application/octet-stream', 'assets/blob.unknownext'],
      [`${APP_ORIGIN}/link-in.js`, 'text/javascript; charset=utf-8', 'assets/index-abc123.js'],
    ];
    for (const [url, type, file] of cases) {
      const response = await get(url);
      assert.equal(response.status, 200, url);
      assert.equal(response.headers.get('content-type'), type, url);
      assert.equal(response.headers.get('content-security-policy'), desktopContentSecurityPolicy(), url);
      assert.equal(response.headers.get('x-content-type-options'), 'nosniff', url);
      assert.deepEqual(
        new Uint8Array(await response.arrayBuffer()),
        new Uint8Array(await readFile(join(renderer, file))),
        url,
      );
    }
    const head = await get(APP_INDEX_URL, 'HEAD');
    assert.equal(head.status, 200);
    assert.equal((await head.arrayBuffer()).byteLength, 0);
  });

  it('answers 404 for anything outside the folder, folders, missing files and other hosts', async () => {
    for (const url of [
      `${APP_ORIGIN}/../secret.txt`,
      `${APP_ORIGIN}/%2e%2e/secret.txt`,
      `${APP_ORIGIN}/assets/..%2f..%2fsecret.txt`,
      `${APP_ORIGIN}/assets%2f..%2f..%2fsecret.txt`,
      `${APP_ORIGIN}/assets/%5c..%5c..%5csecret.txt`,
      `${APP_ORIGIN}/index.html%00.js`,
      `${APP_ORIGIN}/assets/link-out.js`,
      `${APP_ORIGIN}/assets/dir-out/secret.txt`,
      `${APP_ORIGIN}/${encodeURIComponent(join(dir, 'secret.txt'))}`,
      `${APP_ORIGIN}//${join(dir, 'secret.txt')}`,
      `${APP_ORIGIN}/assets`,
      `${APP_ORIGIN}/assets/`,
      `${APP_ORIGIN}/nope.js`,
      `${APP_ORIGIN}/%E0%A4%A`,
      'app://other/index.html',
      'app://attnvgg:99/index.html',
      `file://${join(renderer, 'index.html')}`,
    ]) {
      const response = await get(url);
      assert.equal(response.status, 404, url);
      const body = await response.text();
      assert.doesNotMatch(body, /SECRET|APP/, url);
      assert.equal(response.headers.get('content-security-policy'), desktopContentSecurityPolicy(), url);
    }
  });

  it('refuses methods other than GET and HEAD', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS']) {
      const response = await get(APP_INDEX_URL, method);
      assert.equal(response.status, 405, method);
      assert.equal(response.headers.get('allow'), 'GET, HEAD');
    }
  });

  it('resolveAppFile maps app:// URLs to files of the folder, or null', async () => {
    assert.equal(await resolveAppFile(renderer, APP_INDEX_URL), join(renderer, 'index.html'));
    assert.equal(await resolveAppFile(renderer, `${APP_ORIGIN}/assets/link-out.js`), null);
    assert.equal(await resolveAppFile(renderer, 'not a url'), null);
    assert.equal(await resolveAppFile(renderer, 'app://user@attnvgg/index.html'), null, 'credentials');
    assert.equal(await resolveAppFile(join(dir, 'missing'), APP_INDEX_URL), null);
  });
});

describe('the app:// scheme and its binding', () => {
  it('is a standard secure origin without CSP bypass, service workers or CORS', () => {
    assert.equal(APP_SCHEME_DEFINITION.scheme, 'app');
    assert.equal(APP_ORIGIN, 'app://attnvgg');
    const p = APP_SCHEME_DEFINITION.privileges ?? {};
    assert.equal(p.standard, true);
    assert.equal(p.secure, true);
    assert.equal(p.bypassCSP, false);
    assert.equal(p.allowServiceWorkers, false);
    assert.equal(p.corsEnabled, false);
  });

  it('app.ts registers the scheme before ready; the window loads app://, never a file', async () => {
    const app = await readFile('main/electron/app.ts', 'utf8');
    const registered = app.indexOf('registerAppScheme();');
    assert.ok(registered > 0 && registered < app.indexOf('await app.whenReady()'), 'registered before ready');
    assert.ok(app.indexOf('serveAppScheme(rendererDir)') > app.indexOf('await app.whenReady()'));
    const window = await readFile('main/electron/app-window.ts', 'utf8');
    assert.match(window, /protocol\.registerSchemesAsPrivileged\(\[APP_SCHEME_DEFINITION\]\)/);
    assert.match(window, /protocol\.handle\(APP_SCHEME, createAppProtocolHandler\(rendererDir\)\)/);
    assert.match(window, /loadURL\(APP_INDEX_URL\)/);
    assert.doesNotMatch(window, /loadFile\(|file:\/\//);
    for (const file of ['app-protocol.ts', 'app-scheme.ts', 'external-links.ts', 'window-options.ts'])
      assert.doesNotMatch(
        await readFile(join('main/electron', file), 'utf8'),
        /^import (?!type)[^;]*from ['"]electron['"]/m,
        `${file} must not load electron at run time`,
      );
  });
});
