// The error type of the ONNX training engine: an OnnxError (models/onnx/errors.ts, the one error type of
// the ONNX code) whose kind is one a trainer raises (a bad argument is the caller's fault; a runtime
// failure is onnxruntime's; an unsupported request names what is missing; 'disposed' a use after
// dispose()). Callers that handle any ONNX failure catch OnnxError; the name says which part failed.

import { OnnxError, type OnnxErrorKind } from '../onnx/errors.js';

export type OnnxTrainErrorKind = Extract<OnnxErrorKind, 'invalid' | 'unsupported' | 'runtime' | 'disposed'>;

export class OnnxTrainError extends OnnxError {
  override name = 'OnnxTrainError';
  declare readonly kind: OnnxTrainErrorKind;

  constructor(kind: OnnxTrainErrorKind, message: string, options?: { cause?: unknown }) {
    super(kind, message, options);
  }
}
