// Reads the header fields and metadata_props of an ONNX file without reading its weights: the file is
// opened and read through its handle by models/onnx/read-header.ts, which walks the top level of the
// ModelProto and steps over the graph by its length. Used to check a sidecar against its model before the
// model is loaded; models/onnx/read.ts checks whole files. Must not import electron or anything from
// main/electron, main/backend, main/server, main/cli or renderer.

import { open, type FileHandle } from 'node:fs/promises';
import {
  OnnxHeaderError,
  readOnnxHeaderFrom,
  type ByteSource,
  type OnnxHeader,
} from '../../../models/onnx/read-header.js';

export { OnnxHeaderError, type OnnxHeader };

/** A ByteSource over an open file of `size` bytes. */
export function fileByteSource(handle: FileHandle, size: number): ByteSource {
  return {
    size,
    async read(position, length) {
      const buffer = Buffer.alloc(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await handle.read(buffer, done, length - done, position + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      return new Uint8Array(buffer.buffer, buffer.byteOffset, done);
    },
  };
}

/** Reads the header and metadata of the ONNX file at `path`. Throws OnnxHeaderError (or a file-system error). */
export async function readOnnxHeader(path: string): Promise<OnnxHeader> {
  const handle = await open(path, 'r');
  try {
    return await readOnnxHeaderFrom(fileByteSource(handle, (await handle.stat()).size));
  } finally {
    await handle.close();
  }
}
