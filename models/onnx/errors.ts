// The one error type of the ONNX writer, reader, runtime wrapper and training engine (whose
// OnnxTrainError is a subclass), with a kind a caller can switch on
// (for example to tell "this is not an ONNX file" from "this ONNX file is not a model we can import").
// Imports nothing.

export type OnnxErrorKind =
  /** The bytes are not a readable ONNX protobuf (truncated, corrupt, not ONNX at all). */
  | 'malformed'
  /** A readable file that breaks an ONNX rule or contradicts itself (sizes, names, types). */
  | 'invalid'
  /** Valid ONNX that uses something this app does not handle. */
  | 'unsupported'
  /** Valid ONNX, but not the network the caller asked for (structure or shapes differ). */
  | 'mismatch'
  /** Weights stored in a separate file that is missing, unsafe to open or the wrong size. */
  | 'external-data'
  /** onnxruntime refused the model or failed while running it. */
  | 'runtime'
  /** A trainer or session used after dispose() (models/onnx-train). */
  | 'disposed';

export class OnnxError extends Error {
  override name = 'OnnxError';
  readonly kind: OnnxErrorKind;

  constructor(kind: OnnxErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.kind = kind;
  }
}

/** The message of anything thrown, for wrapping foreign errors into an OnnxError. */
export function describeError(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
