// The two Content-Security-Policies: browser mode may open only its own server's WebSocket (the exact
// port, never a wildcard); the desktop window may connect nowhere.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  browserModeContentSecurityPolicy,
  desktopContentSecurityPolicy,
} from '../../../main/server/content-security-policy.js';

const directive = (policy: string, name: string): string | undefined =>
  policy
    .split('; ')
    .find((d) => d.startsWith(`${name} `))
    ?.slice(name.length + 1);

test('browser mode connects only to its own port; the desktop window connects nowhere', () => {
  const browser = browserModeContentSecurityPolicy(41234);
  assert.equal(directive(browser, 'connect-src'), 'ws://127.0.0.1:41234 ws://localhost:41234');
  assert.doesNotMatch(browser, /\*/);
  const desktop = desktopContentSecurityPolicy();
  assert.equal(directive(desktop, 'connect-src'), "'none'");
  assert.doesNotMatch(desktop, /ws:|\*/);
  for (const policy of [browser, desktop]) {
    assert.equal(directive(policy, 'default-src'), "'none'");
    assert.equal(directive(policy, 'script-src'), "'self'");
    assert.equal(directive(policy, 'frame-ancestors'), "'none'");
  }
  for (const port of [0, -1, 65536, 1.5, Number.NaN])
    assert.throws(() => browserModeContentSecurityPolicy(port), /port from 1 to 65535/);
});
