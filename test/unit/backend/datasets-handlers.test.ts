// The dataset handlers' rules for what becomes a folder the app may show files of: a folder with no
// usable image (such as /etc/ssh) is refused by datasets.add with the scan's message and opens nothing
// afterwards; and symbolic links follow one rule in the scan, the thumbnails and "open the file": a link
// counts only when its target stays inside the dataset folder. Answers are checked against the contract.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import type { ApiReply } from '../../../main/api/index.js';
import { createApiBackend, type ApiBackend } from '../../../main/backend/index.js';
import { writeDatasetFolder } from '../../fixtures/make-dataset-folder.js';

let dir: string;
let backend: ApiBackend;

before(async () => {
  dir = await mkdtemp(join(os.tmpdir(), 'attnvgg-datasets-handlers-'));
  backend = await createApiBackend({
    workspaceDir: join(dir, 'workspace'),
    shell: 'browser',
    checkResponses: true,
  });
});
after(async () => {
  await backend?.close();
  await rm(dir, { recursive: true, force: true });
});

async function ok(method: string, payload: unknown): Promise<Record<string, unknown>> {
  const reply = await backend.call(method, payload);
  assert.ok(reply.ok, `${method}: ${JSON.stringify(reply)}`);
  return reply.result as Record<string, unknown>;
}

function refusal(reply: ApiReply): { code: string; message: string } {
  assert.equal(reply.ok, false, JSON.stringify(reply));
  return (reply as Extract<ApiReply, { ok: false }>).error;
}

test('datasets.add refuses a folder without images, with the scan message, and opens nothing in it', async () => {
  // Like /etc/ssh: configuration and key files, a sub-folder, no picture.
  const ssh = join(dir, 'ssh');
  await mkdir(join(ssh, 'sshd_config.d'), { recursive: true });
  await writeFile(join(ssh, 'sshd_config'), 'PermitRootLogin no\n');
  await writeFile(join(ssh, 'ssh_host_ed25519_key'), '-----BEGIN OPENSSH PRIVATE KEY-----\n');
  await writeFile(join(ssh, 'sshd_config.d', 'local.conf'), 'X11Forwarding no\n');
  const scan = await ok('datasets.scan', { path: ssh });
  const scanMessage = (scan.errors as { code: string; message: string }[]).find(
    (e) => e.code === 'no-images',
  );
  assert.ok(scanMessage, 'the scan says there are no images');

  const error = refusal(await backend.call('datasets.add', { path: ssh }));
  assert.equal(error.code, 'bad-request');
  assert.ok(error.message.includes(scanMessage.message), error.message);
  assert.match(error.message, /was not added/);
  assert.deepEqual(await ok('datasets.list', {}), []);
  const reveal = refusal(await backend.call('files.reveal', { path: join(ssh, 'ssh_host_ed25519_key') }));
  assert.equal(reveal.code, 'refused');
  // A folder whose only files are damaged pictures has no usable image either.
  const broken = join(dir, 'broken');
  await mkdir(join(broken, 'cat'), { recursive: true });
  await writeFile(join(broken, 'cat', 'a.png'), 'not a picture');
  assert.equal(refusal(await backend.call('datasets.add', { path: broken })).code, 'bad-request');
  assert.deepEqual(await ok('datasets.list', {}), []);
});

test('links: the scan, the thumbnails and "open" follow them only when their target stays inside', async () => {
  const outside = join(dir, 'private');
  await mkdir(outside);
  const secret = join(outside, 'secret.png');
  await sharp({ create: { width: 20, height: 20, channels: 3, background: '#ff00ff' } })
    .png()
    .toFile(secret);
  const dataset = join(dir, 'pets');
  await writeDatasetFolder(dataset, { cat: 3, dog: 3 });
  const [first] = (await readdir(join(dataset, 'dog'))).sort();
  await symlink(join('..', 'dog', first), join(dataset, 'cat', 'link-in.png'));
  await symlink(secret, join(dataset, 'cat', 'link-out.png'));
  await symlink(outside, join(dataset, 'dog', 'folder-out'));

  const entry = await ok('datasets.add', { path: dataset });
  const summary = entry.scan as {
    classes: { name: string; count: number }[];
    problems: { path: string; reason: string }[];
  };
  assert.deepEqual(
    summary.classes.map((c) => [c.name, c.count]),
    [
      ['cat', 4],
      ['dog', 3],
    ],
    'the link inside counts; the links out do not',
  );
  assert.deepEqual(
    summary.problems
      .filter((p) => p.reason === 'link-outside-folder')
      .map((p) => p.path)
      .sort(),
    ['cat/link-out.png', 'dog/folder-out'],
  );

  const datasetId = entry.id as string;
  const thumbs = (await ok('datasets.thumbnails', {
    paths: ['cat/link-in.png', 'cat/link-out.png', 'dog/folder-out/secret.png'],
    datasetId,
  })) as unknown as { path: string; dataUrl: string | null }[];
  assert.deepEqual(
    thumbs.map((t) => t.dataUrl !== null),
    [true, false, false],
  );
  const absolute = (await ok('datasets.thumbnails', {
    paths: [join(dataset, 'cat', 'link-in.png'), join(dataset, 'cat', 'link-out.png')],
  })) as unknown as { dataUrl: string | null }[];
  assert.deepEqual(
    absolute.map((t) => t.dataUrl !== null),
    [true, false],
  );

  const shown = await ok('files.reveal', { path: 'cat/link-in.png', datasetId });
  assert.equal(shown.path, join(dataset, 'dog', first), 'the link inside opens its target');
  assert.ok(String(shown.preview).startsWith('data:image/png'));
  for (const path of ['cat/link-out.png', 'dog/folder-out/secret.png'])
    assert.equal(refusal(await backend.call('files.reveal', { path, datasetId })).code, 'refused', path);
});
