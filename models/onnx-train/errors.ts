// The error type of the ONNX training engine, with a kind a caller can switch on (a bad argument is the
// caller's fault; a runtime failure is onnxruntime's; an unsupported request names what is missing).
// Imports nothing.

export type OnnxTrainErrorKind =
  /** An argument does not fit the model: wrong shape, length, name or option value. */
  | 'invalid'
  /** A valid request this engine does not implement (for example an optimiser it has no graph for). */
  | 'unsupported'
  /** onnxruntime refused the training graph or failed while running it. */
  | 'runtime'
  /** The trainer was used after dispose(). */
  | 'disposed';

export class OnnxTrainError extends Error {
  override name = 'OnnxTrainError';
  readonly kind: OnnxTrainErrorKind;

  constructor(kind: OnnxTrainErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.kind = kind;
  }
}
