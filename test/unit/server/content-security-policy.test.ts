// The two Content-Security-Policies: browser mode may open only its own server's WebSocket (the exact
// port, never a wildcard); the desktop window may reach only its own app:// files.
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

test('browser mode connects only to its own port; the desktop window to no port at all', () => {
  const browser = browserModeContentSecurityPolicy(41234);
  assert.equal(directive(browser, 'connect-src'), 'ws://127.0.0.1:41234 ws://localhost:41234');
  assert.doesNotMatch(browser, /\*/);
  const desktop = desktopContentSecurityPolicy();
  assert.equal(directive(desktop, 'connect-src'), "'self'");
  assert.doesNotMatch(desktop, /ws:|127\.0\.0\.1|localhost|\*/);
  for (const policy of [browser, desktop]) {
    assert.equal(directive(policy, 'default-src'), "'none'");
    assert.equal(directive(policy, 'script-src'), "'self'");
    for (const name of ['frame-ancestors', 'object-src', 'frame-src', 'worker-src'])
      assert.equal(directive(policy, name), "'none'", name);
  }
  for (const port of [0, -1, 65536, 1.5, Number.NaN])
    assert.throws(() => browserModeContentSecurityPolicy(port), /port from 1 to 65535/);
});
