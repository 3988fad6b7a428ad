// The protobuf layer: a tiny model survives encode -> decode with every kind of field we use, and bytes
// that are not a model give an OnnxError of kind 'malformed'.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeModel, encodeModel, DataType } from '../../../../models/onnx/proto.js';
import { OnnxError } from '../../../../models/onnx/errors.js';
import { tensorFloat32, tensorIntegers } from '../../../../models/onnx/tensor.js';
import { tinyModel } from './onnx-fixtures.js';

test('a tiny model survives encode -> decode', () => {
  const model = tinyModel();
  const back = decodeModel(encodeModel(model));
  assert.equal(back.irVersion, 8);
  assert.equal(back.modelVersion, 3);
  assert.deepEqual(back.opsetImport, [{ domain: '', version: 17 }]);
  assert.equal(back.producerName, 'test');
  assert.deepEqual(back.metadataProps, [{ key: 'k', value: 'v' }]);
  const g = back.graph!;
  assert.equal(g.name, 'tiny');
  assert.equal(g.docString, 'tiny graph');
  assert.deepEqual(
    g.node!.map((n) => [n.opType, n.input, n.output, n.docString]),
    [['Add', ['x', 'c'], ['y'], 'adds c']],
  );
  const [c, shape] = g.initializer!;
  assert.equal(c.dataType, DataType.FLOAT);
  assert.deepEqual(c.dims, [2]);
  assert.deepEqual([...tensorFloat32(c)], [1.5, -2]);
  assert.deepEqual(tensorIntegers(shape), [-1, 2], 'negative int64 values survive');
  const dims = g.input![0].type!.tensorType!.shape!.dim!;
  assert.deepEqual(dims, [{ dimParam: 'batch' }, { dimValue: 2 }]);
});

test('decoding gives numbers, not Long objects, for int64 fields', () => {
  const back = decodeModel(encodeModel(tinyModel()));
  assert.equal(typeof back.irVersion, 'number');
  assert.equal(typeof back.graph!.initializer![0].dims![0], 'number');
});

for (const [what, bytes] of [
  ['empty input', new Uint8Array(0)],
  ['a cut-off length prefix', new Uint8Array([0x3a, 0xff, 0xff, 0xff, 0xff, 0x07])],
  ['a length beyond the end', new Uint8Array([0x3a, 0x10, 0x0a])],
  [
    'an over-long varint',
    new Uint8Array([0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]),
  ],
  ['an unknown wire type', new Uint8Array([0x0f, 0x01])],
] as const)
  test(`${what} is a malformed OnnxError`, () => {
    assert.throws(
      () => decodeModel(bytes),
      (e: unknown) => e instanceof OnnxError && e.kind === 'malformed',
    );
  });
