// Opens a finished or stopped run as a model: its spec, classes and the best weights (or the last
// checkpoint's when no epoch has finished). Must not import electron or anything from main/electron,
// main/backend, main/server, main/cli or renderer.

import { access, readFile } from 'node:fs/promises';
import { decodeSafetensors } from '../../../models/core/safetensors.js';
import { checkWeights, type Weights } from '../../../models/core/weights.js';
import { loadCheckpoint } from './checkpoint.js';
import { readRunRecord, runPath, RunFolderError, type RunRecord } from './run-folder.js';

export interface RunModel {
  record: RunRecord;
  weights: Weights;
  /** Which file the weights came from. */
  source: 'best' | 'last';
}

export async function loadRunModel(runDir: string): Promise<RunModel> {
  const record = await readRunRecord(runDir);
  let weights: Weights | null = null;
  let source: RunModel['source'] = 'best';
  try {
    weights = decodeSafetensors(await readFile(runPath(runDir, 'bestCheckpoint'))).tensors;
  } catch {
    source = 'last';
    const last = runPath(runDir, 'lastCheckpoint');
    weights = await loadCheckpoint(last).then(
      (c) => c.weights,
      async (error: Error) => {
        // A damaged checkpoint says so; only a missing one means that no step was trained yet.
        if (
          await access(last).then(
            () => true,
            () => false,
          )
        )
          throw new RunFolderError(error.message);
        return null;
      },
    );
  }
  if (!weights)
    throw new RunFolderError(`The run in ${runDir} has no checkpoint yet: train at least one step first`);
  checkWeights(record.spec, weights);
  return { record, weights, source };
}
