// In CI a test that needs Debian's PyTorch, torchvision or onnx, the Fashion-MNIST files or Chromium must
// not skip quietly: with CI=true or ATTNVGG_REQUIRE_TEST_DEPS=1 (which .ci/run exports) the skip becomes a
// failure naming the package. Checked on a real node:test run of a small test file, and on the sources:
// every test that looks for those packages goes through skipOrFail, and Electron's test does not.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  MissingTestDependency,
  REQUIRE_TEST_DEPS,
  skipOrFail,
  testDepsRequired,
} from '../../helpers/skip-or-fail.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const REASON = '/usr/bin/python3 lacks torch: apt-get install python3-torch';

let dir: string;
let probe: string;
before(async () => {
  dir = await mkdtemp(join(os.tmpdir(), 'attnvgg-required-deps-'));
  probe = join(dir, 'probe.test.ts');
  const helper = pathToFileURL(join(ROOT, 'test', 'helpers', 'skip-or-fail.ts')).href;
  await writeFile(
    probe,
    `import { test } from 'node:test';\nimport { skipOrFail } from ${JSON.stringify(helper)};\n` +
      `test('needs PyTorch', { skip: skipOrFail(${JSON.stringify(REASON)}) }, () => {});\n` +
      `test('needs nothing', () => {});\n`,
  );
});
after(() => rm(dir, { recursive: true, force: true }));

function runProbe(env: Record<string, string>): { status: number | null; output: string } {
  const clean = { ...process.env };
  delete clean.CI;
  delete clean[REQUIRE_TEST_DEPS];
  delete clean.NODE_TEST_CONTEXT; // set by the runner for its children: a nested --test would not run
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', probe], {
    cwd: ROOT,
    env: { ...clean, ...env },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

test('which environments require the test dependencies', () => {
  assert.equal(testDepsRequired({}), false);
  assert.equal(testDepsRequired({ CI: 'false' }), false);
  assert.equal(testDepsRequired({ CI: '' }), false);
  assert.equal(testDepsRequired({ CI: 'true' }), true);
  assert.equal(testDepsRequired({ CI: 'TRUE' }), true);
  assert.equal(testDepsRequired({ CI: '1' }), true);
  assert.equal(testDepsRequired({ [REQUIRE_TEST_DEPS]: '1' }), true);
  assert.equal(skipOrFail(null, { CI: 'true' }), false, 'nothing missing: the test runs');
  assert.equal(skipOrFail(REASON, {}), REASON, 'outside CI: a skip with the reason');
  assert.throws(
    () => skipOrFail(REASON, { [REQUIRE_TEST_DEPS]: '1' }),
    (e: Error) => e instanceof MissingTestDependency && e.message.includes('python3-torch'),
  );
});

test('a node:test run skips outside CI and fails in CI, naming the missing package', () => {
  const relaxed = runProbe({});
  assert.equal(relaxed.status, 0, relaxed.output);
  assert.match(relaxed.output, /skipped 1/);
  const strictEnvs: Record<string, string>[] = [{ CI: 'true' }, { [REQUIRE_TEST_DEPS]: '1' }];
  for (const env of strictEnvs) {
    const strict = runProbe(env);
    assert.notEqual(strict.status, 0, `${JSON.stringify(env)}: ${strict.output}`);
    assert.match(strict.output, /apt-get install python3-torch/);
    assert.doesNotMatch(strict.output, /skipped [1-9]/);
  }
});

test('.ci/run requires the test dependencies', async () => {
  const script = await readFile(join(ROOT, '.ci', 'run'), 'utf8');
  const exported = new RegExp(`^export ${REQUIRE_TEST_DEPS}=1$`, 'm').exec(script);
  assert.ok(exported, `.ci/run exports ${REQUIRE_TEST_DEPS}=1`);
  assert.ok(exported.index < script.indexOf('npm test'), 'before the tests run');
});

test('every test that looks for those packages goes through skipOrFail; Electron’s test stays skippable', async () => {
  const files: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true }))
      if (e.isDirectory()) await walk(join(d, e.name));
      else if (e.name.endsWith('.test.ts')) files.push(join(d, e.name));
  };
  await walk(join(ROOT, 'test'));
  const needing = /pythonMissing\(|browserTestsUnavailable\(|DEBIAN_FASHION_MNIST|existsSync\(CHROMIUM\)/;
  const users = [];
  for (const file of files) {
    const text = await readFile(file, 'utf8');
    if (!needing.test(text)) continue;
    users.push(file);
    assert.match(text, /skipOrFail\(/, `${file} checks for a package without skipOrFail`);
  }
  assert.ok(users.length >= 12, `found ${users.length} files`);
  const browser = await readFile(join(ROOT, 'test', 'e2e', 'browser.test.ts'), 'utf8');
  assert.match(browser, /skip: electronUnavailable\(\) \?\? false/, 'Electron keeps its plain skip');
});
