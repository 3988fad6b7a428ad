// The access token stays with this server: after the app was opened in Chromium (and connected), pages
// and requests of another server on 127.0.0.1 (another port, as another user's or a dev server would
// be) receive nothing of it (no cookie, no Referer, no URL), the app sets no cookie at all, the token
// leaves the address bar, and a reload of the tab still connects.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import { test } from 'node:test';
import { browserTestsUnavailable, openBrowserSession, pageErrorsOf, until } from './browser-session.js';
import { skipOrFail } from '../helpers/skip-or-fail.js';

interface Seen {
  url: string;
  headers: IncomingMessage['headers'];
}

/** A plain server on another loopback port that records every request it gets. */
async function recordingServer(): Promise<{ port: number; seen: Seen[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const server = createServer((request, response) => {
    seen.push({ url: request.url ?? '', headers: request.headers });
    if (request.url === '/')
      response
        .writeHead(200, { 'content-type': 'text/html' })
        .end('<!doctype html><title>other</title><img src="/pixel.png"><script src="/script.js"></script>');
    else response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    seen,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

test(
  'browser mode: the token reaches no other port of 127.0.0.1, and no cookie is set',
  { skip: skipOrFail(browserTestsUnavailable()), timeout: 180_000 },
  async () => {
    const session = await openBrowserSession();
    const other = await recordingServer();
    const { page } = session;
    const pageErrors = pageErrorsOf(page);
    const token = session.app.server.token;
    try {
      await page.goto(session.app.server.openUrl);
      await page.getByRole('heading', { name: 'Datasets' }).waitFor();
      await until('the API connection', async () => (await page.getByText('Not connected').count()) === 0);
      const appUrl = page.url();
      const context = page.context();

      // Another tab of the same browser opens the other server's page (which loads an image and a
      // script from it), then the app's own tab goes there too.
      const second = await context.newPage();
      await second.goto(`http://127.0.0.1:${other.port}/`);
      await until('the other page and its assets', async () => other.seen.length >= 3);
      await page.goto(`http://127.0.0.1:${other.port}/`);
      await until('the app tab on the other page', async () => other.seen.length >= 4);
      for (const request of other.seen)
        assert.equal(JSON.stringify(request).includes(token), false, JSON.stringify(request));
      assert.equal(
        other.seen.some((r) => r.headers.cookie !== undefined),
        false,
        'no cookie reaches the other port',
      );
      assert.deepEqual(await context.cookies(), [], 'the app sets no cookie');
      assert.equal(appUrl.includes(token), false, `the address bar still shows the token: ${appUrl}`);

      // Back to the app without the token in the address: this tab still holds it and connects.
      await page.goto(session.app.server.url);
      await page.getByRole('heading', { name: 'Datasets' }).waitFor();
      await until(
        'the API connection after the reload',
        async () => (await page.getByText('Not connected').count()) === 0,
      );
      assert.deepEqual(pageErrors, []);
    } finally {
      await other.close();
      await session.close();
    }
  },
);
