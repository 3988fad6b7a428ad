// The one error type of the readers of PyTorch checkpoints, safetensors files and ONNX archives that
// feed the backbone import, with the same kinds as the ONNX reader's errors so a caller can report both
// alike. A file the readers refuse on purpose (a pickle that asks to call code) is 'unsupported', and
// its message names what was asked. Imports nothing but the ONNX error kinds.

import type { OnnxErrorKind } from '../onnx/errors.js';

export type WeightFileErrorKind = Exclude<OnnxErrorKind, 'external-data' | 'runtime'>;

export class WeightFileError extends Error {
  override name = 'WeightFileError';
  readonly kind: WeightFileErrorKind;

  constructor(kind: WeightFileErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.kind = kind;
  }
}
