// The desktop window's locks, checked in plain Node without the Electron binary: DevTools off in a
// packaged build, the web preferences that keep Node out of the page, the desktop CSP (no WebSocket, no
// script but the app's own files), and the allow-list of hosts a link may open in the user's browser
// (empty today: nothing opens), used for window.open and for navigation alike.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { desktopContentSecurityPolicy } from '../../../main/server/content-security-policy.js';
import { EXTERNAL_HOSTS, externalLinkAllowed } from '../../../main/electron/external-links.js';
import { BACKBONE_CATALOGUE, CATALOGUE_HOSTS } from '../../../main/services/backbone/catalogue.js';
import { appWindowOptions } from '../../../main/electron/window-options.js';

describe('window options', () => {
  it('DevTools are off in a packaged build and on in development', () => {
    assert.equal(appWindowOptions({ preload: '/p.cjs', packaged: true }).webPreferences?.devTools, false);
    assert.equal(appWindowOptions({ preload: '/p.cjs', packaged: false }).webPreferences?.devTools, true);
  });

  it('keeps Node out of the page whatever the build', () => {
    for (const packaged of [true, false]) {
      const prefs = appWindowOptions({ preload: '/p.cjs', packaged }).webPreferences ?? {};
      assert.equal(prefs.preload, '/p.cjs');
      assert.equal(prefs.contextIsolation, true);
      assert.equal(prefs.sandbox, true);
      assert.equal(prefs.nodeIntegration, false);
      assert.equal(prefs.nodeIntegrationInWorker, false);
      assert.equal(prefs.nodeIntegrationInSubFrames, false);
      assert.equal(prefs.webSecurity, true);
      assert.equal(prefs.allowRunningInsecureContent, false);
      assert.equal(prefs.webviewTag, false);
    }
  });

  it('app-window.ts builds the window from these options with app.isPackaged', async () => {
    const source = await readFile('main/electron/app-window.ts', 'utf8');
    assert.match(source, /new BrowserWindow\(appWindowOptions\(\{ preload, packaged: app\.isPackaged \}\)\)/);
  });
});

describe('the desktop CSP', () => {
  it('allows no WebSocket or loopback address, and scripts only from the app', () => {
    // The header form: directives separated by "; ", each "name source ...".
    const directives = new Map(
      desktopContentSecurityPolicy()
        .split('; ')
        .map((d) => {
          const [name, ...sources] = d.split(' ');
          return [name, sources];
        }),
    );
    assert.doesNotMatch(desktopContentSecurityPolicy(), /ws:|wss:|127\.0\.0\.1|localhost|\*/);
    assert.deepEqual(directives.get('script-src'), ["'self'"]);
    assert.deepEqual(directives.get('default-src'), ["'none'"]);
    assert.deepEqual(directives.get('connect-src'), ["'self'"]);
    for (const directive of ['object-src', 'base-uri', 'form-action', 'frame-ancestors', 'frame-src'])
      assert.deepEqual(directives.get(directive), ["'none'"], directive);
    assert.doesNotMatch(desktopContentSecurityPolicy(), /unsafe-eval|script-src[^;]*unsafe-inline/);
  });
});

describe('links to the web', () => {
  it('the list is the hosts of the catalogue: their https pages open, nothing else does', () => {
    assert.deepEqual(EXTERNAL_HOSTS, [...CATALOGUE_HOSTS].sort());
    assert.ok(EXTERNAL_HOSTS.length > 0);
    for (const entry of BACKBONE_CATALOGUE) assert.equal(externalLinkAllowed(entry.url), true, entry.url);
    for (const url of ['https://example.com/', 'http://download.pytorch.org/models/x.pth', 'http://x/'])
      assert.equal(externalLinkAllowed(url), false, url);
  });

  it('with a listed host: https on that exact host only', () => {
    const hosts = ['download.pytorch.org'];
    assert.equal(externalLinkAllowed('https://download.pytorch.org/models/vgg16_bn.pth', hosts), true);
    assert.equal(externalLinkAllowed('https://DOWNLOAD.pytorch.org/a', hosts), true, 'hosts ignore case');
    for (const url of [
      'http://download.pytorch.org/models/vgg16_bn.pth',
      'https://download.pytorch.org.evil.example/',
      'https://evil.example/?https://download.pytorch.org/',
      'https://pytorch.org/',
      'https://sub.download.pytorch.org/',
      'https://user:pw@download.pytorch.org/',
      'https://download.pytorch.org:8443/',
      'file:///etc/passwd',
      'javascript:alert(1)',
      'app://attnvgg/index.html',
      'blob:app://attnvgg/123',
      'not a url',
      '',
    ])
      assert.equal(externalLinkAllowed(url, hosts), false, url);
  });

  it('window.open and navigation are both denied in the app and pass through the same check', async () => {
    const source = await readFile('main/electron/app-window.ts', 'utf8');
    assert.match(
      source,
      /'will-navigate', \(event\) => \{\s*event\.preventDefault\(\);\s*openIfAllowed\(event\.url\)/,
    );
    assert.match(
      source,
      /setWindowOpenHandler\(\(\{ url \}\) => \{\s*openIfAllowed\(url\);\s*return \{ action: 'deny' \}/,
    );
    assert.match(source, /if \(externalLinkAllowed\(url\)\) void shell\.openExternal\(url\)/);
    assert.equal(source.match(/shell\.openExternal\(/g)?.length, 1, 'no other way out');
  });
});
