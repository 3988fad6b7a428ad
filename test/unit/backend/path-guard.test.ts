// Images the UI may see are only those inside the folders the user chose, links resolved first.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { checkAllowedFile, isInside } from '../../../main/backend/path-guard.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(os.tmpdir(), 'attnvgg-guard-'));
  await mkdir(join(dir, 'data', 'cats'), { recursive: true });
  await mkdir(join(dir, 'data-other'), { recursive: true });
  await writeFile(join(dir, 'data', 'cats', 'a.png'), 'x');
  await writeFile(join(dir, 'data-other', 'b.png'), 'x');
  await symlink(join(dir, 'data-other', 'b.png'), join(dir, 'data', 'cats', 'link.png'));
});
after(() => rm(dir, { recursive: true, force: true }));

test('isInside compares whole path parts', () => {
  assert.ok(isInside('/a/data', '/a/data/x.png'));
  assert.ok(isInside('/a/data', '/a/data'));
  assert.ok(!isInside('/a/data', '/a/data-other/x.png'));
  assert.ok(!isInside('/a/data', '/a/x.png'));
  assert.ok(!isInside('/a/data', '/a'));
  assert.ok(!isInside('/a/data', '/b/data/x.png'));
});

test('files inside a chosen folder are allowed; anything else is refused in plain words', async () => {
  const roots = [join(dir, 'data')];
  assert.equal(
    await checkAllowedFile(join(dir, 'data', 'cats', 'a.png'), roots),
    join(dir, 'data', 'cats', 'a.png'),
  );
  assert.equal(
    await checkAllowedFile('cats/a.png', roots, join(dir, 'data')),
    join(dir, 'data', 'cats', 'a.png'),
  );
  const refused = [
    [join(dir, 'data-other', 'b.png')],
    [join(dir, 'data', '..', 'data-other', 'b.png')],
    ['../data-other/b.png', join(dir, 'data')],
    [join(dir, 'data', 'cats', 'link.png')],
    ['/etc/passwd'],
    ['relative.png'],
    [`${join(dir, 'data', 'cats', 'a.png')}\0`],
  ];
  for (const [path, base] of refused)
    await assert.rejects(checkAllowedFile(path, roots, base), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'refused', path);
      assert.ok(e.message.length > 10);
      return true;
    });
});
