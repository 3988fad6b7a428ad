// Where a resumed run continues: its last checkpoint, or, when that file is damaged, the best checkpoint
// (weights only) at the end of the epoch it was written in. Never a silent restart: a damaged last
// checkpoint is reported as a warning, and when no position can be recovered the resume is refused
// with the user's options. Must not import electron or anything from main/electron, main/backend, main/server,
// main/cli or renderer.

import { readFile, stat } from 'node:fs/promises';
import { decodeSafetensors } from '../../../models/core/safetensors.js';
import type { ModelSpec } from '../../../models/core/spec.js';
import { checkWeights, type Weights } from '../../../models/core/weights.js';
import type { OptimizerState } from '../../../models/train/optimizer.js';
import { loadCheckpoint, type LoopPosition } from './checkpoint.js';
import { readMetrics, runPath } from './run-folder.js';
import type { TrainingEventListener } from './training-events.js';

export interface ResumePoint {
  weights: Weights;
  /** Absent when resuming from the best checkpoint: the optimiser starts afresh (momentum zero). */
  optimizer?: OptimizerState;
  position: LoopPosition;
  /** Which file the weights came from. */
  source: 'last' | 'best';
}

/** Thrown when a run cannot be resumed from what its folder holds; the message lists the options. */
export class ResumeError extends Error {
  override name = 'ResumeError';
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    (error: NodeJS.ErrnoException) => error.code !== 'ENOENT',
  );
}

/**
 * The resume point of the run in `runDir`, or null when it has no checkpoint at all (stopped before the
 * first one was written: the run starts from its first step, and a warning says so).
 */
export async function findResumePoint(
  runDir: string,
  spec: ModelSpec,
  stepsPerEpoch: number,
  emit: TrainingEventListener,
): Promise<ResumePoint | null> {
  const lastPath = runPath(runDir, 'lastCheckpoint');
  let damage: string;
  try {
    const last = await loadCheckpoint(lastPath);
    checkWeights(spec, last.weights);
    return { ...last, source: 'last' };
  } catch (error) {
    damage = (error as Error).message;
    if (!(await exists(lastPath)) && !(await exists(runPath(runDir, 'bestCheckpoint')))) {
      emit({
        type: 'warning',
        message:
          'The run stopped before its first checkpoint was saved: training starts from the first step.',
      });
      return null;
    }
    emit({ type: 'warning', message: `The last checkpoint cannot be used: ${damage}` });
  }
  const best = await readBestPoint(runDir, spec, stepsPerEpoch);
  if (typeof best === 'string')
    throw new ResumeError(
      `Cannot resume ${runDir}: the last checkpoint cannot be used (${damage}) and ${best}. ` +
        `Options: restore ${lastPath} from a backup and resume again; or export or evaluate the run as it is ` +
        `(its best weights, when intact); or start a new run in another folder (attnvgg train).`,
    );
  emit({
    type: 'warning',
    message:
      `Resuming from the best checkpoint instead (weights at the end of epoch ${best.position.epoch}); ` +
      `the optimiser state starts afresh and the epochs after it are trained again.`,
  });
  return best;
}

/** The best checkpoint as a resume point at the end of its epoch, or why it cannot be one. */
async function readBestPoint(
  runDir: string,
  spec: ModelSpec,
  stepsPerEpoch: number,
): Promise<ResumePoint | string> {
  const path = runPath(runDir, 'bestCheckpoint');
  let weights: Weights;
  let epoch: number;
  try {
    const decoded = decodeSafetensors(await readFile(path));
    weights = decoded.tensors;
    checkWeights(spec, weights);
    epoch = Number(decoded.metadata.epoch);
  } catch (error) {
    return `the best checkpoint ${path} cannot be used either (${(error as Error).message})`;
  }
  if (!Number.isSafeInteger(epoch) || epoch < 0)
    return `the best checkpoint ${path} does not say which epoch it is from`;
  // Its validation accuracy and the training time are in the epoch's line of metrics.jsonl; without
  // them the loop could not tell whether a later epoch improves on it.
  const line = (await readMetrics(runDir))
    .filter((e) => e.type === 'epoch' && e.epoch === epoch && e.improved)
    .pop();
  if (line?.type !== 'epoch')
    return `metrics.jsonl has no line for epoch ${epoch + 1}, the best checkpoint's, to continue from`;
  return {
    weights,
    source: 'best',
    position: {
      epoch: epoch + 1,
      stepInEpoch: 0,
      globalStep: (epoch + 1) * stepsPerEpoch,
      bestValAccuracy: line.valAccuracy,
      bestEpoch: epoch,
      epochsWithoutImprovement: 0,
      trainSeconds: line.trainSeconds,
    },
  };
}
