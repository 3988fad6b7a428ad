#!/usr/bin/env node
// Runs the test files (*.test.ts) under the given folders with Node's own test runner and tsx.
// Node 20's --test takes no globs, so this lists the files itself.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function collect(dir, out) {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) collect(path, out);
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

const args = process.argv.slice(2);
const dirs = args.filter((a) => !a.startsWith('--'));
const files = dirs.flatMap((d) => (statSync(d).isDirectory() ? collect(d, []) : [d]));
if (files.length === 0) {
  console.error(`No test files under ${dirs.join(', ')}`);
  process.exit(1);
}
// Tests under test/integration share one trained sample model: train it once, before them.
if (dirs.some((d) => d.startsWith('test/integration'))) {
  const fixture = spawnSync(process.execPath, ['--import', 'tsx', 'test/fixtures/make-sample-run.ts'], {
    stdio: 'inherit',
  });
  if (fixture.status !== 0) {
    console.error('Could not train the shared sample model (test/fixtures/make-sample-run.ts)');
    process.exit(1);
  }
}
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-reporter=spec', ...args.filter((a) => a.startsWith('--')), ...files],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
