// Reads the header fields and metadata_props of an ONNX model without reading its graph: the top level of
// the ModelProto is walked field by field through a ByteSource (a file handle, for instance), the graph
// (nearly all of the bytes) is stepped over by its length, and the few fields wanted are copied as they are
// and decoded with the generated schema (proto.ts's modelProtoType: field numbers by name, protobufjs for
// the values, strings as strict UTF-8). The only wire format read by hand is the tag and length of each
// top-level field. Pure: reads only through the caller's ByteSource; nothing from main/.

import protobuf from 'protobufjs';
import { modelProtoType, type ModelProto } from './proto.js';

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

/** Random access to the bytes of a model: `read` returns exactly `length` bytes from `position`, or fewer at the end. */
export interface ByteSource {
  readonly size: number;
  read(position: number, length: number): Promise<Uint8Array>;
}

export class OnnxHeaderError extends Error {
  override name = 'OnnxHeaderError';
}

/** The largest header field we read into memory (doc strings, metadata values): 16 MiB. */
export const MAX_FIELD_BYTES = 16 * 1024 * 1024;

const fieldId = (name: keyof ModelProto): number => modelProtoType.fields[name].id;
const GRAPH = fieldId('graph');
/** The top-level fields copied and decoded; every other one is skipped. */
const WANTED = new Set(
  (['irVersion', 'producerName', 'producerVersion', 'opsetImport', 'metadataProps'] as const).map(fieldId),
);
const LENGTH_DELIMITED = 2;

/** The reader protobufjs decodes with, but text must be valid UTF-8 (protobufjs would replace bad bytes). */
class StrictUtf8Reader extends protobuf.Reader {
  private static readonly text = new TextDecoder('utf-8', { fatal: true });
  override string(): string {
    try {
      return StrictUtf8Reader.text.decode(this.bytes());
    } catch (e) {
      if (e instanceof TypeError) throw new OnnxHeaderError('a text field is not valid UTF-8');
      throw e;
    }
  }
}

class Cursor {
  pos = 0;
  constructor(private readonly source: ByteSource) {}

  /** `length` bytes from `at`; the source must hold them. */
  async bytes(at: number, length: number): Promise<Uint8Array> {
    if (at + length > this.source.size) throw new OnnxHeaderError('the file ends inside a field');
    const bytes = length === 0 ? new Uint8Array(0) : await this.source.read(at, length);
    if (bytes.length !== length) throw new OnnxHeaderError('the file ends inside a field');
    return bytes;
  }

  /** A base-128 varint (a tag or a length), up to 2^53. */
  async varint(): Promise<number> {
    const head = await this.source.read(this.pos, Math.min(10, this.source.size - this.pos));
    let value = 0;
    let scale = 1;
    for (let i = 0; i < head.length; i++) {
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
    if (this.pos + length > this.source.size) throw new OnnxHeaderError('the file ends inside a field');
    this.pos += length;
  }
}

/** Decodes the copied top-level fields as a ModelProto; protobufjs's wire errors become OnnxHeaderErrors. */
function decodeFields(parts: readonly Uint8Array[]): ModelProto {
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    bytes.set(p, at);
    at += p.length;
  }
  try {
    const message = modelProtoType.decode(new StrictUtf8Reader(bytes));
    return modelProtoType.toObject(message, { longs: Number, arrays: true }) as ModelProto;
  } catch (e) {
    if (e instanceof OnnxHeaderError) throw e;
    const wire = /invalid wire type (\d+)/.exec(String((e as Error).message));
    if (wire) throw new OnnxHeaderError(`unknown protobuf wire type ${wire[1]}`);
    throw new OnnxHeaderError('a metadata entry is cut short');
  }
}

function safeNumber(n: number | undefined): number {
  if (n === undefined) return 0;
  if (!Number.isSafeInteger(n) || n < 0) throw new OnnxHeaderError('a number in the header is too large');
  return n;
}

/** Reads the header and metadata of the ONNX model in `source`. Throws OnnxHeaderError (or the source's errors). */
export async function readOnnxHeaderFrom(source: ByteSource): Promise<OnnxHeader> {
  const size = source.size;
  if (size === 0) throw new OnnxHeaderError('the file is empty');
  const cursor = new Cursor(source);
  const parts: Uint8Array[] = [];
  let sawGraph = false;
  while (cursor.pos < size) {
    const start = cursor.pos;
    const tag = await cursor.varint();
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (field === 0) throw new OnnxHeaderError('a field number 0 is not protobuf');
    if (wire === 0) await cursor.varint();
    else if (wire === 1) cursor.skip(8);
    else if (wire === 5) cursor.skip(4);
    else if (wire === LENGTH_DELIMITED) {
      const length = await cursor.varint();
      if (field === GRAPH) sawGraph = true;
      cursor.skip(length);
      if (length > MAX_FIELD_BYTES) continue; // a wanted field this large is left out
    } else throw new OnnxHeaderError(`unknown protobuf wire type ${wire}`);
    // The field as it is in the file, tag included, for the schema's decoder.
    if (WANTED.has(field)) parts.push(await cursor.bytes(start, cursor.pos - start));
  }
  if (!sawGraph) throw new OnnxHeaderError('the file holds no graph');
  const model = decodeFields(parts);
  const metadata = new Map<string, string>();
  for (const { key, value } of model.metadataProps ?? []) {
    if (key === undefined) continue;
    if (metadata.has(key)) throw new OnnxHeaderError(`the metadata key "${key}" appears twice`);
    metadata.set(key, value ?? '');
  }
  let opsetVersion = 0;
  for (const { domain, version } of model.opsetImport ?? [])
    if (!domain || domain === 'ai.onnx') opsetVersion = safeNumber(version);
  return {
    irVersion: safeNumber(model.irVersion),
    producerName: model.producerName ?? '',
    producerVersion: model.producerVersion ?? '',
    opsetVersion,
    metadata,
    bytes: size,
  };
}
