// The header reader (models/onnx/read-header.ts): the same header and metadata as the full decoder, the
// graph stepped over without being read (a source that counts the bytes asked for stands in for a file of
// several GiB), and damaged headers refused with an OnnxHeaderError that says what is wrong.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import protobuf from 'protobufjs';
import { decodeModel, encodeModel } from '../../../../models/onnx/proto.js';
import {
  MAX_FIELD_BYTES,
  OnnxHeaderError,
  readOnnxHeaderFrom,
  type ByteSource,
} from '../../../../models/onnx/read-header.js';
import { tinyModel } from './onnx-fixtures.js';

/** A source over `bytes` that counts what it is asked for. */
function memorySource(bytes: Uint8Array): ByteSource & { asked: number } {
  return {
    size: bytes.length,
    asked: 0,
    async read(position, length) {
      this.asked += length;
      return bytes.subarray(position, position + length);
    },
  };
}

/**
 * A model whose fields are `before`, then a graph field of `graphBytes` zero bytes that are never stored,
 * then `after`: reading inside the graph fails the test.
 */
function sourceWithHugeGraph(
  before: Uint8Array,
  graphBytes: number,
  after: Uint8Array,
): ByteSource & { asked: number } {
  const graphHead = protobuf.Writer.create()
    .uint32((7 << 3) | 2)
    .uint64(graphBytes)
    .finish();
  const graphStart = before.length + graphHead.length;
  const afterStart = graphStart + graphBytes;
  const head = new Uint8Array([...before, ...graphHead]);
  return {
    size: afterStart + after.length,
    asked: 0,
    async read(position, length) {
      this.asked += length;
      if (position + length <= graphStart) return head.subarray(position, position + length);
      if (position >= afterStart)
        return after.subarray(position - afterStart, position - afterStart + length);
      // A varint read looks ahead up to 10 bytes: it may reach into the graph, never further.
      assert.ok(
        position < graphStart && position + length <= graphStart + 10,
        `read inside the graph at ${position}`,
      );
      return new Uint8Array([...head.subarray(position), ...new Uint8Array(position + length - graphStart)]);
    },
  };
}

/** Top-level ModelProto fields as bytes (encodeModel of a model without a graph). */
const fields = (model: Parameters<typeof encodeModel>[0]) => encodeModel(model);

const rejects = (source: ByteSource, message: RegExp) =>
  assert.rejects(
    readOnnxHeaderFrom(source),
    (e: Error) => e instanceof OnnxHeaderError && message.test(e.message),
  );

test('the header and metadata equal what the full decoder reads', async () => {
  const bytes = encodeModel({
    ...tinyModel(),
    producerVersion: '1.2.3',
    opsetImport: [
      { domain: 'com.microsoft', version: 1 },
      { domain: 'ai.onnx', version: 17 },
    ],
    metadataProps: [
      { key: 'a', value: 'one' },
      { key: 'b', value: '' },
      { key: 'é', value: 'ünïcode' },
    ],
  });
  const full = decodeModel(bytes);
  const header = await readOnnxHeaderFrom(memorySource(bytes));
  assert.equal(header.irVersion, full.irVersion);
  assert.equal(header.producerName, full.producerName);
  assert.equal(header.producerVersion, '1.2.3');
  assert.equal(header.opsetVersion, 17);
  assert.deepEqual(
    [...header.metadata],
    full.metadataProps!.map((p) => [p.key, p.value ?? '']),
  );
  assert.equal(header.bytes, bytes.length);
});

test('a graph of 6 GiB is stepped over: a few dozen bytes are read, the metadata after it too', async () => {
  const before = fields({ irVersion: 9, producerName: 'big', opsetImport: [{ domain: '', version: 18 }] });
  const after = fields({ metadataProps: [{ key: 'after.graph', value: 'read' }] });
  const source = sourceWithHugeGraph(before, 6 * 1024 ** 3, after);
  const header = await readOnnxHeaderFrom(source);
  assert.equal(header.irVersion, 9);
  assert.equal(header.producerName, 'big');
  assert.equal(header.opsetVersion, 18);
  assert.deepEqual([...header.metadata], [['after.graph', 'read']]);
  assert.equal(header.bytes, source.size);
  assert.ok(source.asked < 400, `read ${source.asked} bytes of ${source.size}`);
});

test('a wanted field larger than the limit is stepped over, not read', async () => {
  const value = 'x'.repeat(MAX_FIELD_BYTES + 1);
  const bytes = fields({
    metadataProps: [
      { key: 'huge', value },
      { key: 'small', value: 'kept' },
    ],
    graph: { name: 'g' },
  });
  const source = memorySource(bytes);
  const header = await readOnnxHeaderFrom(source);
  assert.deepEqual([...header.metadata], [['small', 'kept']]);
  assert.ok(source.asked < 1000, `read ${source.asked} bytes`);
});

test('a field of the wrong wire type is not taken for the field', async () => {
  // producer_name (field 2) as a varint: not a string, so protobuf leaves it unknown.
  const odd = protobuf.Writer.create()
    .uint32((2 << 3) | 0)
    .uint32(5)
    .finish();
  const header = await readOnnxHeaderFrom(memorySource(new Uint8Array([...odd, ...fields({ graph: {} })])));
  assert.equal(header.producerName, '');
});

test('damaged headers are refused with what is wrong', async () => {
  const graph = fields({ graph: { name: 'g' } });
  const entry = (key: string, value: string) => fields({ metadataProps: [{ key, value }] });
  await rejects(memorySource(new Uint8Array(0)), /^the file is empty$/);
  await rejects(memorySource(fields({ irVersion: 8 })), /^the file holds no graph$/);
  await rejects(
    memorySource(new Uint8Array([...entry('k', '1'), ...graph, ...entry('k', '2')])),
    /^the metadata key "k" appears twice$/,
  );
  await rejects(memorySource(graph.subarray(0, graph.length - 1)), /^the file ends inside a field$/);
  await rejects(memorySource(new Uint8Array([0x08, 0x80])), /^a number in the header is cut short$/);
  await rejects(memorySource(new Uint8Array([0x02, 0x00, ...graph])), /^a field number 0 is not protobuf$/);
  await rejects(memorySource(new Uint8Array([(3 << 3) | 3, ...graph])), /^unknown protobuf wire type 3$/);
  // A metadata value that is not UTF-8 (Latin-1 "é").
  const latin1 = entry('k', 'caf?');
  latin1[latin1.length - 1] = 0xe9;
  await rejects(memorySource(new Uint8Array([...latin1, ...graph])), /^a text field is not valid UTF-8$/);
  // A metadata entry whose inner field says it is longer than the entry.
  const cut = new Uint8Array([(14 << 3) | 2, 3, (1 << 3) | 2, 5, 0x61]);
  await rejects(memorySource(new Uint8Array([...cut, ...graph])), /^a metadata entry is cut short$/);
  // An opset version beyond 2^53.
  const big = fields({ opsetImport: [{ domain: '', version: 2 ** 60 }], graph: {} });
  await rejects(memorySource(big), /^a number in the header is too large$/);
});
