// Reads the header fields and metadata_props of an ONNX file without reading its weights: the top level
// of the ModelProto is walked field by field through a file handle and the graph (field 7, nearly all of
// the bytes) is stepped over by its length. Used to check a sidecar against its model before the model
// is loaded. Only protobuf's wire format is read here; models/onnx/read.ts checks whole files. Must not
// import electron or anything from main/electron, main/server, main/cli or renderer.

import { open, type FileHandle } from 'node:fs/promises';

export interface OnnxHeader {
  irVersion: number;
  producerName: string;
  producerVersion: string;
  /** Version of the default operator set, 0 when not declared. */
  opsetVersion: number;
  metadata: Map<string, string>;
  /** File size in bytes. */
  bytes: number;
}

export class OnnxHeaderError extends Error {
  override name = 'OnnxHeaderError';
}

/** The largest header field we read into memory (doc strings, metadata values): 16 MiB. */
const MAX_FIELD_BYTES = 16 * 1024 * 1024;

class FileCursor {
  pos = 0;
  constructor(
    private readonly handle: FileHandle,
    readonly size: number,
  ) {}

  async read(length: number): Promise<Uint8Array> {
    if (this.pos + length > this.size) throw new OnnxHeaderError('the file ends inside a field');
    const buffer = Buffer.alloc(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.handle.read(buffer, done, length - done, this.pos + done);
      if (bytesRead === 0) throw new OnnxHeaderError('the file ends inside a field');
      done += bytesRead;
    }
    this.pos += length;
    return new Uint8Array(buffer.buffer, buffer.byteOffset, length);
  }

  /** A base-128 varint, up to 2^53 (lengths and versions never come near). */
  async varint(): Promise<number> {
    const head = Buffer.alloc(10);
    const { bytesRead } = await this.handle.read(head, 0, Math.min(10, this.size - this.pos), this.pos);
    let value = 0;
    let scale = 1;
    for (let i = 0; i < bytesRead; i++) {
      const b = head[i];
      value += (b & 0x7f) * scale;
      scale *= 128;
      if ((b & 0x80) === 0) {
        this.pos += i + 1;
        if (!Number.isSafeInteger(value)) throw new OnnxHeaderError('a number in the header is too large');
        return value;
      }
    }
    throw new OnnxHeaderError('a number in the header is cut short');
  }

  skip(length: number): void {
    if (this.pos + length > this.size) throw new OnnxHeaderError('the file ends inside a field');
    this.pos += length;
  }
}

/** Decodes the fields of a small embedded message (StringStringEntryProto, OperatorSetIdProto). */
function smallMessage(bytes: Uint8Array): Map<number, string | number> {
  const fields = new Map<number, string | number>();
  let pos = 0;
  const varint = (): number => {
    let value = 0;
    let scale = 1;
    for (;;) {
      if (pos >= bytes.length) throw new OnnxHeaderError('a metadata entry is cut short');
      const b = bytes[pos++];
      value += (b & 0x7f) * scale;
      scale *= 128;
      if ((b & 0x80) === 0) return value;
    }
  };
  const text = new TextDecoder('utf-8', { fatal: true });
  while (pos < bytes.length) {
    const tag = varint();
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (wire === 0) fields.set(field, varint());
    else if (wire === 2) {
      const length = varint();
      if (pos + length > bytes.length) throw new OnnxHeaderError('a metadata entry is cut short');
      fields.set(field, text.decode(bytes.subarray(pos, pos + length)));
      pos += length;
    } else if (wire === 5) pos += 4;
    else if (wire === 1) pos += 8;
    else throw new OnnxHeaderError(`unknown protobuf wire type ${wire}`);
  }
  return fields;
}

/** Reads the header and metadata of the ONNX file at `path`. Throws OnnxHeaderError (or a file-system error). */
export async function readOnnxHeader(path: string): Promise<OnnxHeader> {
  const handle = await open(path, 'r');
  try {
    const size = (await handle.stat()).size;
    if (size === 0) throw new OnnxHeaderError('the file is empty');
    const cursor = new FileCursor(handle, size);
    const header: OnnxHeader = {
      irVersion: 0,
      producerName: '',
      producerVersion: '',
      opsetVersion: 0,
      metadata: new Map(),
      bytes: size,
    };
    const text = new TextDecoder('utf-8', { fatal: true });
    let sawGraph = false;
    while (cursor.pos < size) {
      const tag = await cursor.varint();
      const field = Math.floor(tag / 8);
      const wire = tag % 8;
      if (field === 0) throw new OnnxHeaderError('a field number 0 is not protobuf');
      if (wire === 0) {
        const v = await cursor.varint();
        if (field === 1) header.irVersion = v;
      } else if (wire === 1) cursor.skip(8);
      else if (wire === 5) cursor.skip(4);
      else if (wire === 2) {
        const length = await cursor.varint();
        const wanted = field === 2 || field === 3 || field === 8 || field === 14;
        if (!wanted || length > MAX_FIELD_BYTES) {
          if (field === 7) sawGraph = true;
          cursor.skip(length);
          continue;
        }
        const bytes = await cursor.read(length);
        if (field === 2) header.producerName = text.decode(bytes);
        else if (field === 3) header.producerVersion = text.decode(bytes);
        else if (field === 8) {
          const opset = smallMessage(bytes);
          const domain = opset.get(1) ?? '';
          if (domain === '' || domain === 'ai.onnx') header.opsetVersion = Number(opset.get(2) ?? 0);
        } else {
          const entry = smallMessage(bytes);
          const key = entry.get(1);
          if (typeof key === 'string') {
            if (header.metadata.has(key))
              throw new OnnxHeaderError(`the metadata key "${key}" appears twice`);
            header.metadata.set(key, String(entry.get(2) ?? ''));
          }
        }
      } else throw new OnnxHeaderError(`unknown protobuf wire type ${wire}`);
    }
    if (!sawGraph) throw new OnnxHeaderError('the file holds no graph');
    return header;
  } catch (e) {
    if (e instanceof TypeError) throw new OnnxHeaderError('a text field is not valid UTF-8');
    throw e;
  } finally {
    await handle.close();
  }
}
