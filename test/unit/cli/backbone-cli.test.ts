// `attnvgg backbone check` and `attnvgg backbone download`: exit codes, what they print, and a download
// from a local HTTP server on 127.0.0.1 into a workspace.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT } from '../../../main/cli/command.js';
import { cli } from '../../helpers/cli.js';
import type { ModelSpec } from '../../../models/core/spec.js';
import { exportBackboneOnnx } from '../../../models/onnx/export.js';
import { modelZooVgg16BnBytes } from '../../fixtures/model-zoo-vgg16bn.js';
import { testWeights } from '../../helpers/weights.js';

const spec: ModelSpec = {
  inputSize: 64,
  width: 1 / 16,
  numClasses: 3,
  attention: true,
  compatibility: 'pc',
  normalisation: 'softmax',
};
const dir = mkdtempSync(join(tmpdir(), 'attnvgg-backbone-cli-'));
const payload = randomBytes(200_000);
let server: Server;
let base = '';

before(async () => {
  server = createServer((_req, res) => res.writeHead(200, { 'Content-Length': payload.length }).end(payload));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

test('backbone check: a usable file exits 0 and says what it found', async () => {
  const file = join(dir, 'zoo.onnx');
  writeFileSync(file, modelZooVgg16BnBytes(spec, testWeights(spec, 1)));
  const r = await cli('backbone', 'check', file);
  assert.equal(r.code, EXIT.ok, r.err);
  assert.match(r.out, /usable as the VGG16_bn backbone/);
  assert.match(r.out, /width 0\.0625, BatchNorm kept/);
  assert.match(r.out, /Flatten -> Gemm \[128 -> 256\]/);
  const json = await cli('backbone', 'check', file, '--json');
  assert.equal(JSON.parse(json.out).usable, true);
  const folded = join(dir, 'folded.onnx');
  writeFileSync(folded, exportBackboneOnnx(spec, testWeights(spec, 2)));
  const foldedOut = (await cli('backbone', 'check', folded)).out;
  assert.match(foldedOut, /BatchNorm folded/);
  assert.match(foldedOut, /note: BatchNorm is folded into the convolutions/);
});

test('backbone check: unusable files exit 3 with the reason', async () => {
  const junk = join(dir, 'junk.onnx');
  writeFileSync(junk, 'not onnx');
  const r = await cli('backbone', 'check', junk);
  assert.equal(r.code, EXIT.badInput);
  assert.match(r.out, /cannot be used as the VGG16_bn backbone/);
  const zoo = join(dir, 'zoo-narrow.onnx');
  writeFileSync(zoo, modelZooVgg16BnBytes(spec, testWeights(spec, 1)));
  const width = await cli('backbone', 'check', zoo, '--width', '1');
  assert.equal(width.code, EXIT.badInput);
  assert.match(width.out, /width 0\.0625 .*the model spec has width 1/);
  const broken = join(dir, 'zoo-c5.onnx');
  writeFileSync(broken, modelZooVgg16BnBytes(spec, testWeights(spec, 1), { convChannels: { 5: 20 } }));
  const shape = await cli('backbone', 'check', broken);
  assert.equal(shape.code, EXIT.badInput);
  assert.match(shape.out, /conv 5 has shape \[20,8,3,3\]; the model spec expects \[16,8,3,3\]/);
  const absent = await cli('backbone', 'check', join(dir, 'absent.onnx'));
  assert.equal(absent.code, EXIT.badInput);
  assert.match(absent.err, /Cannot read the backbone file/);
});

test('backbone: usage errors exit 2', async () => {
  assert.equal((await cli('backbone')).code, EXIT.usage);
  assert.equal((await cli('backbone', 'frobnicate')).code, EXIT.usage);
  assert.equal((await cli('backbone', 'check')).code, EXIT.usage);
  const noUrl = await cli('backbone', 'download', '--workspace', dir);
  if (!process.env.ATTNVGG_BACKBONE_URL) {
    assert.equal(noUrl.code, EXIT.usage);
    assert.match(noUrl.err, /Name a catalogue entry .* or pass --url/);
  }
});

test('backbone download: fetches into the workspace cache and checks the checksum', async () => {
  const sha = createHash('sha256').update(payload).digest('hex');
  const workspace = join(dir, 'ws');
  const r = await cli(
    'backbone',
    'download',
    '--url',
    `${base}/b.onnx`,
    '--sha256',
    sha,
    '--workspace',
    workspace,
  );
  assert.equal(r.code, EXIT.ok, r.err);
  assert.match(r.out, /Downloaded: .*verified/);
  assert.ok(readFileSync(join(workspace, 'backbones', `${sha}.onnx`)).equals(payload));
  const bad = await cli(
    'backbone',
    'download',
    '--url',
    `${base}/b.onnx`,
    '--sha256',
    '0'.repeat(64),
    '--workspace',
    workspace,
  );
  assert.equal(bad.code, EXIT.badInput);
  assert.match(bad.err, /was not kept/);
});
