// Encodes and decodes ONNX ModelProto bytes with protobufjs over the generated schema
// (models/onnx/generated/onnx.ts). Decoding turns every failure of the wire format into an OnnxError and
// gives plain objects with int64 values as numbers. Knows nothing about attnvgg; imports no runtime.

import protobuf from 'protobufjs';
import { onnxDescriptor, type ModelProto } from './generated/onnx.js';
import { describeError, OnnxError } from './errors.js';

export type * from './generated/onnx.js';
export {
  AttributeProto_AttributeType as AttributeType,
  TensorProto_DataType as DataType,
  TensorProto_DataLocation as DataLocation,
} from './generated/onnx.js';

/**
 * One protobuf message may not exceed 2 GiB (protobuf's own limit); ONNX files larger than that keep
 * their weights in external data files.
 */
export const MAX_PROTOBUF_BYTES = 2 ** 31 - 1;

const root = protobuf.Root.fromJSON(onnxDescriptor as unknown as protobuf.INamespace);
/** The ModelProto type of the generated schema: field numbers by name, and decoding of partial messages. */
export const modelProtoType = root.lookupType('onnx.ModelProto');

/** Serialises a model. The caller builds it from typed parts, so no verification pass is made here. */
export function encodeModel(model: ModelProto): Uint8Array {
  const bytes = modelProtoType.encode(modelProtoType.fromObject(model as { [k: string]: unknown })).finish();
  if (bytes.length > MAX_PROTOBUF_BYTES)
    throw new OnnxError(
      'unsupported',
      `The model is ${bytes.length} bytes, more than the 2 GiB a single ONNX protobuf can hold.`,
    );
  return bytes;
}

/**
 * Parses ModelProto bytes. Only the wire format is checked here (lengths, nesting depth, varints);
 * models/onnx/read.ts checks the meaning. Byte fields are views into `bytes`, not copies.
 */
export function decodeModel(bytes: Uint8Array): ModelProto {
  if (bytes.length === 0) throw new OnnxError('malformed', 'The file is empty: it holds no ONNX model.');
  if (bytes.length > MAX_PROTOBUF_BYTES)
    throw new OnnxError(
      'malformed',
      `The file is ${bytes.length} bytes, more than the 2 GiB a single ONNX protobuf can hold.`,
    );
  let message: protobuf.Message;
  try {
    message = modelProtoType.decode(bytes);
  } catch (e) {
    throw new OnnxError(
      'malformed',
      `The file is not a readable ONNX model (the protobuf data is cut short or corrupt: ${describeError(e)}).`,
      { cause: e },
    );
  }
  try {
    // longs: Number turns int64 values into numbers; values beyond 2^53 lose precision, which the
    // checks in read.ts catch because they are not safe integers.
    return modelProtoType.toObject(message, { longs: Number, arrays: true }) as ModelProto;
  } catch (e) {
    throw new OnnxError('malformed', `The file is not a readable ONNX model (${describeError(e)}).`, {
      cause: e,
    });
  }
}
