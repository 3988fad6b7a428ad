// The CLI's exit code is decided by an error's class (main/cli/exit-codes.ts), and every error class that
// main/ and models/ export is listed there: found by reading the sources, then checked on the modules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { SpecError } from '../../../models/core/spec.js';
import { EXIT, UserError } from '../../../main/cli/command.js';
import { exitCodeFor, INPUT_ERROR_CLASSES } from '../../../main/cli/exit-codes.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

async function sources(dir: string, out: string[] = []): Promise<string[]> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory() && entry.name !== 'generated') await sources(path, out);
    else if (entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

test('every exported error class of main/ and models/ has its exit code', async () => {
  const found: string[] = [];
  for (const file of [...(await sources(join(ROOT, 'main'))), ...(await sources(join(ROOT, 'models')))]) {
    const text = await readFile(file, 'utf8');
    for (const m of text.matchAll(/^export class (\w+) extends \w*Error\b/gm)) {
      const name = m[1];
      found.push(`${relative(ROOT, file)}: ${name}`);
      if (name === 'UserError') continue; // carries its own exit code
      const module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
      assert.ok(
        INPUT_ERROR_CLASSES.includes(module[name] as (typeof INPUT_ERROR_CLASSES)[number]),
        `${relative(ROOT, file)}: ${name} is not listed in main/cli/exit-codes.ts`,
      );
    }
  }
  assert.ok(found.length > 30, `only ${found.length} error classes found: the scan is broken`);
});

test('exit codes by class, not by name', () => {
  assert.equal(exitCodeFor(new SpecError('width must be positive')), EXIT.badInput);
  assert.equal(exitCodeFor(new UserError('wrong usage', EXIT.usage)), EXIT.usage);
  assert.equal(exitCodeFor(new TypeError('x is undefined')), EXIT.failed);
  const lookalike = new Error('not ours');
  lookalike.name = 'SpecError';
  assert.equal(exitCodeFor(lookalike), EXIT.failed, 'a name alone does not make an input error');
  assert.equal(exitCodeFor('a string'), EXIT.failed);
});
