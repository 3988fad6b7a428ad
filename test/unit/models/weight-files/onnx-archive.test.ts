// The .tar.gz reader: takes the one ONNX member out of a Model-Zoo-style archive into memory (never to
// disk, whatever its name says), skips other members and links, and refuses archives with no or several
// ONNX files, damaged ones, and ones that inflate beyond the limit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WeightFileError } from '../../../../models/weight-files/errors.js';
import { readOnnxFromTarGz } from '../../../../models/weight-files/onnx-archive.js';
import { tarGzBytes } from '../../../fixtures/make-hostile-checkpoints.js';

async function* chunks(bytes: Uint8Array, size = 1000) {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

const onnx = Buffer.from(Array.from({ length: 3000 }, (_, i) => i % 251));

test('the ONNX member of a Model-Zoo-style archive is read whole; the rest is skipped', async () => {
  const archive = tarGzBytes([
    { name: 'vgg16-bn/', data: Buffer.alloc(0), type: '5' },
    { name: 'vgg16-bn/test_data_set_0/input_0.pb', data: Buffer.alloc(700, 1) },
    { name: 'vgg16-bn/vgg16-bn.onnx', data: onnx },
    { name: 'vgg16-bn/link.onnx', data: Buffer.from('/etc/passwd'), type: '2' },
  ]);
  const got = await readOnnxFromTarGz(chunks(archive));
  assert.equal(got.name, 'vgg16-bn/vgg16-bn.onnx');
  assert.deepEqual(Buffer.from(got.bytes), onnx);
  assert.ok(got.skipped.includes('vgg16-bn/test_data_set_0/input_0.pb'));
  assert.ok(got.skipped.includes('vgg16-bn/link.onnx'), 'a link is not followed');
});

test('a member named outside the archive is only read into memory, never written', async () => {
  const target = join(tmpdir(), `attnvgg-escaped-${process.pid}.onnx`);
  const archive = tarGzBytes([{ name: `../../../../../../..${target}`, data: onnx }]);
  const got = await readOnnxFromTarGz(chunks(archive));
  assert.deepEqual(Buffer.from(got.bytes), onnx);
  assert.equal(existsSync(target), false);
});

test('archives with no ONNX file, several, damage or a gzip bomb are refused', async () => {
  const kind = (k: WeightFileError['kind'], pattern: RegExp) => (e: unknown) => {
    assert.ok(e instanceof WeightFileError, String(e));
    assert.equal(e.kind, k, e.message);
    assert.match(e.message, pattern);
    return true;
  };
  await assert.rejects(
    readOnnxFromTarGz(chunks(tarGzBytes([{ name: 'readme.txt', data: Buffer.from('hi') }]))),
    kind('mismatch', /no ONNX file \(members: readme\.txt\)/),
  );
  await assert.rejects(
    readOnnxFromTarGz(
      chunks(
        tarGzBytes([
          { name: 'a.onnx', data: onnx },
          { name: 'b.onnx', data: onnx },
        ]),
      ),
    ),
    kind('unsupported', /2 ONNX files \(a\.onnx, b\.onnx\)/),
  );
  const whole = tarGzBytes([{ name: 'a.onnx', data: onnx }]);
  await assert.rejects(
    readOnnxFromTarGz(chunks(whole.subarray(0, whole.length - 40))),
    kind('malformed', /./),
  );
  await assert.rejects(
    readOnnxFromTarGz(chunks(tarGzBytes([{ name: 'zeros.bin', data: Buffer.alloc(8 * 2 ** 20) }])), {
      maxInflatedBytes: 2 ** 20,
    }),
    kind('unsupported', /inflates to more than 1048576 bytes/),
  );
  await assert.rejects(
    readOnnxFromTarGz(chunks(tarGzBytes([{ name: 'big.onnx', data: Buffer.alloc(5000) }])), {
      maxOnnxBytes: 4096,
    }),
    kind('unsupported', /5000 bytes; at most 4096/),
  );
});
