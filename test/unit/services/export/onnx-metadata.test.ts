// readOnnxHeader on a file: a sparse 3 GiB file whose graph is a hole is read through its handle without
// reading the graph (the bytes the handle is asked for are counted), and its metadata after the graph is
// found. Sparse: the hole takes no disk space.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { fileByteSource, readOnnxHeader } from '../../../../main/services/export/onnx-metadata.js';
import { readOnnxHeaderFrom } from '../../../../models/onnx/read-header.js';
import { encodeModel } from '../../../../models/onnx/proto.js';

const dir = await mkdtemp(join(tmpdir(), 'attnvgg-onnx-metadata-'));
after(() => rm(dir, { recursive: true, force: true }));

const GRAPH_BYTES = 3 * 1024 ** 3;

test('a 3 GiB model is read without its graph: the metadata after the graph, a few hundred bytes read', async () => {
  const path = join(dir, 'huge.onnx');
  const head = new Uint8Array([
    ...encodeModel({ irVersion: 8, producerName: 'attnvgg', opsetImport: [{ domain: '', version: 17 }] }),
    ...protobuf.Writer.create()
      .uint32((7 << 3) | 2)
      .uint64(GRAPH_BYTES)
      .finish(),
  ]);
  const tail = encodeModel({ metadataProps: [{ key: 'attnvgg.model_id', value: 'after-the-graph' }] });
  const file = await open(path, 'w');
  await file.write(head, 0, head.length, 0);
  await file.write(tail, 0, tail.length, head.length + GRAPH_BYTES);
  await file.close();

  const header = await readOnnxHeader(path);
  assert.equal(header.bytes, head.length + GRAPH_BYTES + tail.length);
  assert.equal(header.producerName, 'attnvgg');
  assert.equal(header.opsetVersion, 17);
  assert.deepEqual([...header.metadata], [['attnvgg.model_id', 'after-the-graph']]);

  const handle = await open(path, 'r');
  try {
    const source = fileByteSource(handle, (await handle.stat()).size);
    let asked = 0;
    const counted = {
      size: source.size,
      read: (position: number, length: number) => {
        asked += length;
        return source.read(position, length);
      },
    };
    assert.deepEqual(await readOnnxHeaderFrom(counted), header);
    assert.ok(asked < 400, `read ${asked} bytes`);
  } finally {
    await handle.close();
  }
});
