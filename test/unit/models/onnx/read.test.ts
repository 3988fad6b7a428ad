// readOnnx on hostile input: every failure is an OnnxError of a fitting kind; declared sizes are checked
// against the data; external data never leaves the model's folder.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readOnnx } from '../../../../models/onnx/read.js';
import { OnnxError, type OnnxErrorKind } from '../../../../models/onnx/errors.js';
import {
  DataLocation,
  DataType,
  encodeModel,
  type ModelProto,
  type TensorProto,
} from '../../../../models/onnx/proto.js';
import { safeRelativeLocation } from '../../../../models/onnx/external-data.js';
import { folderExternalData } from '../../../../models/onnx/external-files.js';
import { tensorFloat32 } from '../../../../models/onnx/tensor.js';
import { createRandom } from '../../../../models/core/random.js';
import { tinyModel } from './onnx-fixtures.js';

function isOnnxError(kind?: OnnxErrorKind) {
  return (e: unknown) => e instanceof OnnxError && (kind === undefined || e.kind === kind);
}

/** The tiny model with its constant `c` replaced. */
function withTensor(c: TensorProto): Uint8Array {
  const m: ModelProto = tinyModel();
  m.graph!.initializer![0] = { name: 'c', ...c };
  return encodeModel(m);
}

test('a valid tiny model reads, with metadata and initializers indexed', () => {
  const m = readOnnx(encodeModel(tinyModel()));
  assert.equal(m.irVersion, 8);
  assert.equal(m.opsetVersion, 17);
  assert.equal(m.metadata.get('k'), 'v');
  assert.deepEqual([...tensorFloat32(m.initializers.get('c')!)], [1.5, -2]);
});

test('every truncation of a valid model is refused or read, never anything else', () => {
  const bytes = encodeModel(tinyModel());
  for (let n = 0; n < bytes.length; n++) {
    try {
      readOnnx(bytes.subarray(0, n));
    } catch (e) {
      assert.ok(e instanceof OnnxError, `cut at ${n}: ${String(e)}`);
    }
  }
});

test('random bytes give an OnnxError', () => {
  const r = createRandom(42);
  for (let i = 0; i < 500; i++) {
    const bytes = Uint8Array.from({ length: 1 + r.int(300) }, () => r.int(256));
    assert.throws(() => readOnnx(bytes), isOnnxError(), `sample ${i}`);
  }
});

test('huge declared sizes are refused without allocating', () => {
  const big = 2 ** 40;
  for (const dims of [[big], [1e6, 1e6], [65536, 65536, 4], [-1], [2 ** 60]])
    assert.throws(
      () => readOnnx(withTensor({ dims, dataType: DataType.FLOAT, rawData: new Uint8Array(8) })),
      isOnnxError('invalid'),
      `dims [${dims}]`,
    );
});

test('declared shape and data must agree', () => {
  const cases: [string, TensorProto][] = [
    ['raw data too short', { dims: [3], dataType: DataType.FLOAT, rawData: new Uint8Array(8) }],
    ['raw data too long', { dims: [1], dataType: DataType.FLOAT, rawData: new Uint8Array(8) }],
    ['float_data count', { dims: [2, 2], dataType: DataType.FLOAT, floatData: [1, 2, 3] }],
    ['no data at all', { dims: [4], dataType: DataType.FLOAT }],
    ['int64 count', { dims: [3], dataType: DataType.INT64, int64Data: [1] }],
    ['no data type', { dims: [1], floatData: [1] }],
    ['unknown data type', { dims: [1], dataType: 99, floatData: [1] }],
  ];
  for (const [what, t] of cases) assert.throws(() => readOnnx(withTensor(t)), isOnnxError('invalid'), what);
});

test('a file without a graph, opset or sane IR version is refused', () => {
  const noGraph = tinyModel();
  delete noGraph.graph;
  assert.throws(() => readOnnx(encodeModel(noGraph)), isOnnxError('invalid'));
  const noOpset = tinyModel();
  noOpset.opsetImport = [];
  assert.throws(() => readOnnx(encodeModel(noOpset)), isOnnxError('invalid'));
  const oldIr = tinyModel();
  oldIr.irVersion = 2;
  assert.throws(() => readOnnx(encodeModel(oldIr)), isOnnxError('unsupported'));
});

test('duplicate names and metadata keys are refused', () => {
  const dupInit = tinyModel();
  dupInit.graph!.initializer!.push({ ...dupInit.graph!.initializer![0] });
  assert.throws(() => readOnnx(encodeModel(dupInit)), isOnnxError('invalid'));
  const dupOut = tinyModel();
  dupOut.graph!.node!.push({ ...dupOut.graph!.node![0] });
  assert.throws(() => readOnnx(encodeModel(dupOut)), isOnnxError('invalid'));
  const dupMeta = tinyModel();
  dupMeta.metadataProps!.push({ key: 'k', value: 'w' });
  assert.throws(() => readOnnx(encodeModel(dupMeta)), isOnnxError('invalid'));
});

test('external data locations are confined to the model folder', () => {
  assert.equal(safeRelativeLocation('weights/./a.bin'), 'weights/a.bin');
  assert.equal(safeRelativeLocation('weights/../a.bin'), 'a.bin');
  assert.equal(safeRelativeLocation('w\\a.bin'), 'w/a.bin');
  for (const bad of [
    '',
    '../a.bin',
    'w/../../a.bin',
    '/etc/passwd',
    '\\\\server\\share',
    'C:\\a.bin',
    'c:a',
    'a\0b',
    '.',
  ])
    assert.throws(() => safeRelativeLocation(bad), isOnnxError('external-data'), JSON.stringify(bad));
});

const dir = mkdtempSync(join(tmpdir(), 'attnvgg-onnx-ext-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function external(location: string, extra: Record<string, string> = {}): Uint8Array {
  return withTensor({
    dims: [2],
    dataType: DataType.FLOAT,
    dataLocation: DataLocation.EXTERNAL,
    externalData: [
      { key: 'location', value: location },
      ...Object.entries(extra).map(([key, value]) => ({ key, value })),
    ],
  });
}

test('external data inside the folder is read, with offset and length checked', () => {
  const modelDir = join(dir, 'model');
  mkdirSync(modelDir, { recursive: true });
  const data = new Float32Array([0, 7, -3, 0]);
  writeFileSync(join(modelDir, 'data.bin'), new Uint8Array(data.buffer));
  const source = folderExternalData(modelDir);
  const m = readOnnx(external('data.bin', { offset: '4', length: '8' }), { externalData: source });
  assert.deepEqual([...tensorFloat32(m.initializers.get('c')!)], [7, -3]);
  // Without a source the tensor stays external: reading its values says so.
  const lazy = readOnnx(external('data.bin'));
  assert.throws(() => tensorFloat32(lazy.initializers.get('c')!), isOnnxError('external-data'));
  for (const [what, bytes] of [
    ['length that disagrees with the shape', external('data.bin', { length: '12' })],
    ['range past the end of the file', external('data.bin', { offset: '12' })],
    ['offset that is not a number', external('data.bin', { offset: '-4' })],
    ['missing file', external('missing.bin')],
    ['path out of the folder', external('../outside.bin')],
  ] as const)
    assert.throws(() => readOnnx(bytes, { externalData: source }), isOnnxError('external-data'), what);
  // Unsafe paths are refused even when nothing would be read.
  assert.throws(() => readOnnx(external('/etc/passwd')), isOnnxError('external-data'));
});

test('a symbolic link out of the model folder is refused', () => {
  const modelDir = join(dir, 'linked');
  mkdirSync(modelDir, { recursive: true });
  writeFileSync(join(dir, 'secret.bin'), new Uint8Array(8));
  symlinkSync(join(dir, 'secret.bin'), join(modelDir, 'data.bin'));
  assert.throws(
    () => readOnnx(external('data.bin'), { externalData: folderExternalData(modelDir) }),
    isOnnxError('external-data'),
  );
});
