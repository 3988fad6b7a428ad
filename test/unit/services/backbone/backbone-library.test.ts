// The workspace's list of backbones: a usable picked file is added where it is (notes kept), an unusable
// or non-ONNX file is refused with the reason and nothing is listed, the same content is one entry, a
// file that moves or changes is listed as gone and cannot be trained from, an unusable download is
// deleted, removal deletes only downloaded files, and a damaged list says how to recover.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { access, mkdtemp, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createRandom } from '../../../../models/core/random.js';
import { initWeights } from '../../../../models/core/weights.js';
import { BackboneLibrary } from '../../../../main/services/backbone/backbone-library.js';
import { BackboneError, checkBackbone } from '../../../../main/services/backbone/load-backbone.js';
import { modelZooVgg16BnBytes } from '../../../fixtures/model-zoo-vgg16bn.js';

const root = await mkdtemp(join(tmpdir(), 'attnvgg-backbone-library-'));
after(() => rm(root, { recursive: true, force: true }));

const spec = { inputSize: 32, width: 0.0625 };
const weights = initWeights(
  { ...spec, numClasses: 2, attention: true, compatibility: 'pc', normalisation: 'softmax' },
  createRandom(4),
);
const zoo = modelZooVgg16BnBytes(spec, weights);
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );
let checks = 0;
const check = (file: string) => {
  checks++;
  return checkBackbone(file);
};

test('picked files: added where they are, refused with the reason, one entry per content, gone when moved', async () => {
  const workspace = join(root, 'ws1');
  const library = new BackboneLibrary(workspace);
  assert.deepEqual(await library.list(), []);
  const file = join(root, 'zoo.onnx');
  await writeFile(file, zoo);
  await writeFile(join(root, 'junk.onnx'), Buffer.from([1, 2, 3, 4]));
  await writeFile(join(root, 'model.bin'), zoo);

  await assert.rejects(library.addFile(join(root, 'junk.onnx'), check), (e: Error) => {
    assert.ok(e instanceof BackboneError);
    assert.match(e.message, /^junk\.onnx cannot be used: /);
    return true;
  });
  const before = checks;
  await assert.rejects(library.addFile(join(root, 'model.bin'), check), /not a weights file/);
  assert.equal(checks, before, 'a file of another extension is refused before it is read');
  assert.deepEqual(await library.list(), []);

  const entry = await library.addFile(file, check);
  assert.equal(entry.id, sha(zoo).slice(0, 16));
  assert.equal(entry.sha256, sha(zoo));
  assert.equal(entry.path, file);
  assert.equal(entry.name, 'zoo.onnx');
  assert.equal(entry.source, 'file');
  assert.match(entry.summary, /^width 0\.0625, BatchNorm kept, /);
  assert.ok(
    entry.notes.some((n) => /Width 0\.0625/.test(n)),
    'the narrow width is noted',
  );
  assert.equal(await library.pathOf(entry.id), file);

  const copy = join(root, 'copy.onnx');
  await writeFile(copy, zoo);
  const again = await library.addFile(copy, check);
  assert.equal(again.id, entry.id);
  const list = await library.list();
  assert.equal(list.length, 1);
  assert.equal(list[0].path, copy, 'the entry points where the file was added last');

  await rename(copy, `${copy}.moved`);
  assert.equal((await library.get(entry.id))?.present, false);
  await assert.rejects(library.pathOf(entry.id), /has been moved, changed or deleted/);
  await rename(`${copy}.moved`, copy);
  await writeFile(copy, zoo.subarray(0, zoo.length - 1));
  assert.equal((await library.get(entry.id))?.present, false, 'a file of another size is not the same file');
  await writeFile(copy, zoo);

  await assert.rejects(library.pathOf('0123456789abcdef'), /no longer in the workspace/);
  assert.equal(await library.remove(entry.id), true);
  assert.equal(await exists(copy), true, 'a picked file is left alone');
  assert.equal(await library.remove(entry.id), false);
  assert.deepEqual(await library.list(), []);
});

test('downloads: an unusable one is deleted, a usable one is listed and deleted on removal', async () => {
  const workspace = join(root, 'ws2');
  const library = new BackboneLibrary(workspace);
  await mkdir(library.folder, { recursive: true });
  const junk = Buffer.from('<html>a login page</html>');
  const junkPath = join(library.folder, `${sha(junk)}.onnx`);
  await writeFile(junkPath, junk);
  await assert.rejects(
    library.addDownload(
      {
        path: junkPath,
        sha256: sha(junk),
        bytes: junk.length,
        cached: false,
        resumed: 0,
        verified: false,
        verifiedBy: 'none',
      },
      'http://127.0.0.1:1/models/vgg16_bn.onnx',
      check,
    ),
    /downloaded from http:\/\/127\.0\.0\.1:1\/models\/vgg16_bn\.onnx cannot be used/,
  );
  assert.equal(await exists(junkPath), false);

  const path = join(library.folder, `${sha(zoo)}.onnx`);
  await writeFile(path, zoo);
  const entry = await library.addDownload(
    {
      path,
      sha256: sha(zoo),
      bytes: zoo.length,
      cached: false,
      resumed: 0,
      verified: true,
      verifiedBy: 'sha256',
    },
    'http://127.0.0.1:1/models/vgg16_bn.onnx',
    check,
  );
  assert.equal(entry.name, 'vgg16_bn.onnx');
  assert.equal(entry.source, 'download');
  assert.equal(entry.url, 'http://127.0.0.1:1/models/vgg16_bn.onnx');
  // The same content picked from elsewhere: the downloaded copy stays the entry (never left unlisted).
  const picked = join(root, 'same-as-download.onnx');
  await writeFile(picked, zoo);
  assert.equal((await library.addFile(picked, check)).path, path);
  assert.equal((await library.list()).length, 1);
  assert.equal(await library.remove(entry.id), true);
  assert.equal(await exists(path), false);
});

test('a damaged list is refused with how to recover; parallel adds are not lost', async () => {
  const workspace = join(root, 'ws3');
  const library = new BackboneLibrary(workspace);
  const files = await Promise.all(
    [1, 2, 3].map(async (i) => {
      const w = initWeights(
        { ...spec, numClasses: 2, attention: true, compatibility: 'pc', normalisation: 'softmax' },
        createRandom(10 + i),
      );
      const f = join(root, `parallel-${i}.onnx`);
      await writeFile(f, modelZooVgg16BnBytes(spec, w));
      return f;
    }),
  );
  await Promise.all(files.map((f) => library.addFile(f, check)));
  assert.equal((await library.list()).length, 3);
  await writeFile(join(library.folder, 'library.json'), '{"format": "attnvgg-backbones/1", "backb');
  await assert.rejects(library.list(), /library\.json is damaged\. Move it away/);
});
