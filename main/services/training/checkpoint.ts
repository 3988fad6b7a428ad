// A training checkpoint as ONE safetensors file (so it is replaced atomically): the model weights in
// PyTorch layout under their own names, the optimiser's state under `optimizer/<slot>/<param>`, and the
// loop's position and history in the metadata. Must not import electron or anything from main/electron,
// main/backend, main/server, main/cli or renderer.

import { readFile } from 'node:fs/promises';
import { decodeSafetensors, encodeSafetensors, type TensorMap } from '../../../models/core/safetensors.js';
import type { Weights } from '../../../models/core/weights.js';
import type { OptimizerState } from '../../../models/train/optimizer.js';
import { writeFileAtomic } from '../storage/atomic-write.js';

export const CHECKPOINT_FORMAT = 'attnvgg-checkpoint/1';

/** Where the loop stands: enough to continue exactly where it stopped. */
export interface LoopPosition {
  /** 0-based epoch in progress (or the next one when stepInEpoch is 0). */
  epoch: number;
  /** Batches of `epoch` already trained on. */
  stepInEpoch: number;
  /** Optimiser steps taken so far in the whole run. */
  globalStep: number;
  bestValAccuracy: number;
  bestEpoch: number;
  epochsWithoutImprovement: number;
  /** Training seconds so far (evaluation excluded). */
  trainSeconds: number;
}

export interface Checkpoint {
  weights: Weights;
  optimizer: OptimizerState;
  position: LoopPosition;
}

export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

const OPT_PREFIX = 'optimizer/';

export async function saveCheckpoint(path: string, checkpoint: Checkpoint): Promise<void> {
  const tensors: TensorMap = new Map(checkpoint.weights);
  for (const [key, a] of checkpoint.optimizer.slots) tensors.set(`${OPT_PREFIX}${key}`, a);
  const metadata = {
    format: CHECKPOINT_FORMAT,
    position: JSON.stringify(checkpoint.position),
    optimizerStep: String(checkpoint.optimizer.step),
  };
  await writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

export async function loadCheckpoint(path: string): Promise<Checkpoint> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new CheckpointError(`Cannot read the checkpoint ${path}: ${(error as Error).message}`);
  }
  let decoded;
  try {
    decoded = decodeSafetensors(bytes);
  } catch (error) {
    throw new CheckpointError(`The checkpoint ${path} is damaged: ${(error as Error).message}`);
  }
  const { tensors, metadata } = decoded;
  if (metadata.format !== CHECKPOINT_FORMAT)
    throw new CheckpointError(`${path} is not an attnvgg checkpoint (format "${metadata.format ?? 'none'}")`);
  const weights: Weights = new Map();
  const slots: TensorMap = new Map();
  for (const [name, a] of tensors) {
    if (name.startsWith(OPT_PREFIX)) slots.set(name.slice(OPT_PREFIX.length), a);
    else weights.set(name, a);
  }
  let position: unknown;
  try {
    position = JSON.parse(metadata.position ?? '');
  } catch {
    throw new CheckpointError(`The checkpoint ${path} has no readable loop position`);
  }
  const problem = positionProblem(position);
  if (problem) throw new CheckpointError(`The checkpoint ${path} is damaged: its loop position ${problem}`);
  const step = Number(metadata.optimizerStep ?? 0);
  if (!Number.isSafeInteger(step) || step < 0)
    throw new CheckpointError(
      `The checkpoint ${path} is damaged: optimiser step "${metadata.optimizerStep}"`,
    );
  return { weights, optimizer: { step, slots }, position: position as LoopPosition };
}

/** Why `value` is not a LoopPosition a run can continue from, or undefined when it is one. */
function positionProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'is not an object';
  const p = value as Record<string, unknown>;
  const counts = ['epoch', 'stepInEpoch', 'globalStep', 'epochsWithoutImprovement'] as const;
  for (const key of counts) {
    const v = p[key];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) return `has ${key} ${String(v)}`;
  }
  if (typeof p.bestEpoch !== 'number' || !Number.isSafeInteger(p.bestEpoch) || p.bestEpoch < -1)
    return `has bestEpoch ${String(p.bestEpoch)}`;
  for (const key of ['bestValAccuracy', 'trainSeconds'] as const)
    if (typeof p[key] !== 'number' || !Number.isFinite(p[key])) return `has ${key} ${String(p[key])}`;
  return undefined;
}
