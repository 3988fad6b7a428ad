// Converts the ONNX trainer's momentum buffers (PyTorch layout, like the weights) to and from
// models/train/optimizer.ts's OptimizerState, whose slots are in TensorFlow.js layout (the shape of the
// tfjs variable: HWIO convs, [in, out] matrices), so a checkpoint written by either engine resumes in the
// other. The layout rules are those of models/tfjs/model.ts (toTfLayout / fromTfLayout, not exported
// there). Pure: models/core only.

import { hwioToOihw, matrixToPointwise, oihwToHwio, pointwiseToMatrix, transpose2d } from '../core/layout.js';
import type { NamedArray } from '../core/weights.js';

/** The key of a parameter's momentum buffer in OptimizerState.slots. */
export function momentumSlotKey(param: string): string {
  return `momentum/${param}`;
}

function isPointwiseHead(name: string): boolean {
  return !name.startsWith('features.') && (name.startsWith('project.') || name.startsWith('u.'));
}

/** A tensor of parameter `name` in PyTorch layout -> the layout of its TensorFlow.js variable. */
export function toTfLayout(name: string, a: NamedArray): NamedArray {
  if (a.shape.length === 4 && a.shape[2] === 1 && a.shape[3] === 1 && !name.startsWith('features.'))
    return pointwiseToMatrix(a);
  if (a.shape.length === 4) return oihwToHwio(a);
  if (a.shape.length === 2) return transpose2d(a);
  return { shape: [...a.shape], data: a.data.slice() };
}

/** The inverse of toTfLayout. */
export function fromTfLayout(name: string, a: NamedArray): NamedArray {
  if (isPointwiseHead(name)) return matrixToPointwise(a);
  if (a.shape.length === 4) return hwioToOihw(a);
  if (a.shape.length === 2) return transpose2d(a);
  return { shape: [...a.shape], data: a.data.slice() };
}
