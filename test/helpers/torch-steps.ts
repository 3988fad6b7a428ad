// Runs training steps of the independent PyTorch implementation (test/fixtures/torch_attnvgg.py
// train-steps) from weights and one batch written to a folder: shared by the parity tests of both
// training engines.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeSafetensors, encodeSafetensors } from '../../models/core/safetensors.js';
import type { ModelSpec } from '../../models/core/spec.js';
import type { NamedArray, Weights } from '../../models/core/weights.js';
import { runPython } from './python.js';

/** What torch_attnvgg.py's train-steps takes (OPT_JSON). */
export interface TorchStepOptions {
  optimizer: 'sgd' | 'adam' | 'adamw';
  lr: number;
  momentum?: number;
  weightDecay: number;
  steps: number;
  labelSmoothing?: number;
  epsilon?: number;
  frozenBlocks?: number;
}

/** Writes the weights and the batch (x NHWC, labels) that torchSteps reads from `dir`. */
export function writeTorchInputs(
  dir: string,
  weights: Weights,
  x: { shape: number[]; data: Float32Array },
  labels: ArrayLike<number>,
): void {
  writeFileSync(join(dir, 'w.safetensors'), encodeSafetensors(weights));
  const inputs = new Map([
    ['x', x],
    ['y', { shape: [labels.length], data: Float32Array.from(labels) }],
  ]);
  writeFileSync(join(dir, 'x.safetensors'), encodeSafetensors(inputs));
}

/** Every weight after the steps (state_dict names) and "loss", one value per step. */
export function torchSteps(dir: string, spec: ModelSpec, opt: TorchStepOptions): Map<string, NamedArray> {
  runPython([
    'test/fixtures/torch_attnvgg.py',
    'train-steps',
    JSON.stringify(spec),
    join(dir, 'w.safetensors'),
    join(dir, 'x.safetensors'),
    join(dir, 'out.safetensors'),
    JSON.stringify(opt),
  ]);
  return decodeSafetensors(readFileSync(join(dir, 'out.safetensors'))).tensors;
}
