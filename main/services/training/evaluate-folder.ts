// Evaluates a run's model on any labelled folder (all of its images, whatever their split folder), and
// writes the report into the run folder. Where the folder's pictures have object boxes (found beside
// them, or in the file given: boxes/find-boxes.ts), the report also holds the pointing game. Must not import electron or anything from main/electron,
// main/backend, main/server, main/cli or renderer.

import { join } from 'node:path';
import { encodeSafetensors } from '../../../models/core/safetensors.js';
import { AttentionVgg } from '../../../models/tfjs/model.js';
import { findDatasetBoxes, type BoxProblem } from '../boxes/find-boxes.js';
import { scanDataset } from '../datasets/scan-dataset.js';
import { writeFileAtomic, writeJsonAtomic } from '../storage/atomic-write.js';
import { evaluateModel, type EvaluationReport } from './evaluate-model.js';
import { loadRunModel } from './load-run-model.js';
import { evaluateOnOnnxruntime } from './onnx-evaluation-engine.js';
import type { Device } from '../../../models/onnx/device.js';
import { TrainingError } from './training-run.js';

export interface FolderEvaluation {
  report: EvaluationReport;
  reportPath: string;
  mapsPath: string;
  /** Box files that could not be used (the evaluation went on without them). */
  boxProblems: BoxProblem[];
}

export interface FolderEvaluationOptions {
  /** Report name: <run>/<name>.json (default eval-<time>). */
  name?: string;
  /** A boxes.json or COCO file to read the boxes from instead of looking beside the pictures. */
  boxesFile?: string;
  /** Evaluate on onnxruntime on this device (the exported model, as training evaluates); absent: on
   * TensorFlow.js. */
  device?: Device;
}

export async function evaluateRunOnFolder(
  runDir: string,
  folder: string,
  options: FolderEvaluationOptions = {},
): Promise<FolderEvaluation> {
  const name = options.name ?? `eval-${Date.now()}`;
  const run = await loadRunModel(runDir);
  const { record } = run;
  const scan = await scanDataset(folder, { valFraction: 0, seed: record.config.seed });
  const folderClasses = scan.classes.map((c) => c.name);
  const unknown = folderClasses.filter((c) => !record.classes.includes(c));
  if (unknown.length > 0)
    throw new TrainingError(
      `The folder has classes the model does not know: ${unknown.join(', ')}. The model knows: ${record.classes.join(', ')}.`,
    );
  // Class indices of the model, not of the folder (the folder may hold a subset of the classes).
  const items = scan.items.map((item) => ({ ...item, classIndex: record.classes.indexOf(item.label) }));
  const found = await findDatasetBoxes(scan.root, items, { boxesFile: options.boxesFile });
  const evaluation = {
    classes: record.classes,
    split: folder,
    inputSize: record.spec.inputSize,
    batchSize: 32,
    mean: record.config.mean,
    std: record.config.std,
    keepMisclassifiedMaps: record.config.keepMisclassifiedMaps,
    ...(found.boxes.size > 0 ? { boxes: Object.fromEntries(found.boxes) } : {}),
  };
  const device = options.device;
  const model = device === undefined ? AttentionVgg.fromWeights(record.spec, run.weights) : null;
  try {
    const { report, maps } = model
      ? await evaluateModel(model, items, evaluation)
      : await evaluateOnOnnxruntime(record.spec, run.weights, items, evaluation, undefined, device);
    const reportPath = join(runDir, `${name}.json`);
    const mapsPath = join(runDir, `${name}-maps.safetensors`);
    await writeFileAtomic(mapsPath, encodeSafetensors(maps));
    await writeJsonAtomic(reportPath, report);
    return { report, reportPath, mapsPath, boxProblems: found.problems };
  } finally {
    model?.dispose();
  }
}
