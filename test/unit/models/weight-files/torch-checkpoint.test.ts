// The PyTorch checkpoint reader on files built byte by byte: a valid one-tensor state_dict in both of
// torch's formats reads back exactly; pickles that ask to run code (os.system, posix.system,
// builtins.eval, an object constructor) are refused by name before anything could run; impossible
// storage sizes, truncated and hostile zips (bomb, member outside the archive) are refused with reasons.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateRawSync } from 'node:zlib';
import { bufferSource } from '../../../../models/weight-files/byte-source.js';
import { WeightFileError } from '../../../../models/weight-files/errors.js';
import { loadPickle, PickleDict } from '../../../../models/weight-files/pickle.js';
import { readTorchCheckpointBytes } from '../../../../models/weight-files/torch-checkpoint.js';
import { openZip } from '../../../../models/weight-files/zip-archive.js';
import {
  legacyCheckpoint,
  PickleWriter,
  reducePickle,
  stackGlobalPickle,
  stateDictPickle,
  zipBytes,
  zipCheckpoint,
} from '../../../fixtures/make-hostile-checkpoints.js';

const values = Float32Array.from({ length: 24 }, (_, i) => i * 0.5 - 3);
const storage = new Uint8Array(values.buffer);

function refuses(kind: WeightFileError['kind'], pattern: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof WeightFileError, `expected a WeightFileError, got ${String(e)}`);
    assert.equal(e.kind, kind, e.message);
    assert.match(e.message, pattern);
    return true;
  };
}

test('a one-tensor state_dict reads back exactly from the zip and the legacy format', async () => {
  for (const [format, bytes] of [
    ['zip', zipCheckpoint(stateDictPickle('features.0.weight', [2, 3, 4], 24), { '0': storage })],
    [
      'legacy',
      legacyCheckpoint(stateDictPickle('features.0.weight', [2, 3, 4], 24, true), [
        { key: '0', numel: 24, data: storage },
      ]),
    ],
  ] as const) {
    const file = await readTorchCheckpointBytes(bytes);
    assert.match(file.format, format === 'zip' ? /zip/ : /legacy/);
    const t = file.tensors.get('features.0.weight');
    assert.ok(t, format);
    assert.deepEqual(t.shape, [2, 3, 4]);
    assert.equal(t.dtype, 'float32');
    assert.deepEqual(await t.read(), values);
  }
});

test('the pickle reader reads the values torch.save writes and returns where it stopped', () => {
  const bytes = new PickleWriter()
    .op(0x7d)
    .mark()
    .str('a')
    .int(300)
    .str('b')
    .int(-5n)
    .str('c')
    .op(0x5d)
    .mark()
    .int(1)
    .op(0x4e, 0x88)
    .op(0x65)
    .op(0x75)
    .bytes();
  const { value, end } = loadPickle(Buffer.concat([bytes, Buffer.from('rest')]));
  assert.equal(end, bytes.length);
  assert.ok(value instanceof PickleDict);
  assert.equal(value.map.get('a'), 300);
  assert.equal(value.map.get('b'), -5);
  assert.deepEqual(value.map.get('c'), [1, null, true]);
});

test('pickles that ask to run code are refused by name, before anything is called', () => {
  const cases: [Buffer, RegExp][] = [
    [reducePickle('os', 'system', 'touch /tmp/attnvgg-pwned'), /os\.system/],
    [reducePickle('posix', 'system', 'touch /tmp/attnvgg-pwned'), /posix\.system/],
    [reducePickle('nt', 'system', 'calc'), /nt\.system/],
    [stackGlobalPickle('builtins', 'eval', '__import__("os").system("id")'), /builtins\.eval/],
    [reducePickle('subprocess', 'Popen', 'id'), /subprocess\.Popen/],
    [reducePickle('torch', 'load', 'x'), /torch\.load/],
  ];
  for (const [bytes, name] of cases) {
    assert.throws(() => loadPickle(bytes), refuses('unsupported', name));
    assert.throws(() => loadPickle(bytes), /nothing was run/);
  }
  // An allowed global that is not a function of data: a storage class called directly.
  assert.throws(
    () => loadPickle(reducePickle('torch', 'FloatStorage', 'x')),
    refuses('unsupported', /calls torch\.FloatStorage/),
  );
  // Object construction is refused whatever the class.
  const newobj = new PickleWriter().global('collections', 'OrderedDict').op(0x29, 0x81).bytes();
  assert.throws(() => loadPickle(newobj), refuses('unsupported', /creates an object/));
});

test('a hostile pickle inside either checkpoint format is refused the same way', async () => {
  const payload = reducePickle('os', 'system', 'touch /tmp/attnvgg-pwned');
  await assert.rejects(
    readTorchCheckpointBytes(zipCheckpoint(payload)),
    refuses('unsupported', /os\.system/),
  );
  await assert.rejects(
    readTorchCheckpointBytes(legacyCheckpoint(payload)),
    refuses('unsupported', /os\.system/),
  );
  // A legacy file whose first pickle (the magic number) is already hostile.
  await assert.rejects(readTorchCheckpointBytes(payload), refuses('unsupported', /os\.system/));
});

test('storages that claim more elements than the file holds are refused before anything is allocated', async () => {
  const huge = 2n ** 40n;
  await assert.rejects(
    readTorchCheckpointBytes(zipCheckpoint(stateDictPickle('w', [4], huge), { '0': storage })),
    refuses('malformed', /claims 1099511627776 float32 values .* its member holds 96 bytes/),
  );
  await assert.rejects(
    readTorchCheckpointBytes(
      legacyCheckpoint(stateDictPickle('w', [4], huge, true), [{ key: '0', numel: 24, data: storage }]),
    ),
    refuses('malformed', /holds 24 elements, but its tensors say 1099511627776/),
  );
  await assert.rejects(
    readTorchCheckpointBytes(
      legacyCheckpoint(stateDictPickle('w', [4], 2 ** 40, true), [
        { key: '0', numel: 2 ** 40, data: storage },
      ]),
    ),
    refuses('malformed', /runs past the end of the file/),
  );
  // A tensor larger than its storage.
  await assert.rejects(
    readTorchCheckpointBytes(zipCheckpoint(stateDictPickle('w', [5, 5], 24), { '0': storage })),
    refuses('malformed', /does not fit its storage of 24 elements/),
  );
});

test('a truncated zip checkpoint is refused as damaged', async () => {
  const whole = zipCheckpoint(stateDictPickle('w', [24], 24), { '0': storage });
  for (const length of [10, 200, whole.length - 30, whole.length - 1])
    await assert.rejects(readTorchCheckpointBytes(whole.subarray(0, length)), (e: unknown) => {
      assert.ok(e instanceof WeightFileError, String(e));
      assert.equal(e.kind, 'malformed', e.message);
      return true;
    });
});

test('zip bombs are refused without inflating them', async () => {
  const zeros = Buffer.alloc(96 * 2 ** 20);
  // data.pkl declared as 96 MiB: beyond what a checkpoint's pickle may be.
  await assert.rejects(
    readTorchCheckpointBytes(zipBytes([{ name: 'archive/data.pkl', data: zeros, deflate: true }])),
    refuses('unsupported', /at most 67108864 are read/),
  );
  // ... or declared small while it inflates to 96 MiB.
  await assert.rejects(
    readTorchCheckpointBytes(
      zipBytes([{ name: 'archive/data.pkl', data: zeros, deflate: true, declaredSize: 1000 }]),
    ),
    refuses('unsupported', /does not inflate to the 1000 bytes it declares/),
  );
  assert.ok(deflateRawSync(zeros).length < 200_000, 'the bomb is small compressed');
});

test('a zip member that points outside the archive refuses the whole file', async () => {
  for (const name of ['../../evil/data.pkl', 'archive/../../x', '/etc/passwd', 'C:/x', 'a\\..\\b']) {
    const bytes = zipBytes([
      { name: 'archive/data.pkl', data: stateDictPickle('w', [24], 24) },
      { name, data: Buffer.from('x') },
    ]);
    await assert.rejects(openZip(bufferSource(bytes)), refuses('unsupported', /points outside the archive/));
  }
});

test('files that are no checkpoint are told apart', async () => {
  await assert.rejects(
    readTorchCheckpointBytes(zipBytes([{ name: 'readme.txt', data: Buffer.from('hi') }])),
    refuses('mismatch', /no <name>\/data\.pkl/),
  );
  await assert.rejects(
    readTorchCheckpointBytes(new PickleWriter().int(7).bytes()),
    refuses('mismatch', /not a PyTorch checkpoint/),
  );
  await assert.rejects(
    readTorchCheckpointBytes(zipCheckpoint(new PickleWriter().op(0x5d).bytes())),
    refuses('mismatch', /does not hold a state_dict/),
  );
});
