// Evaluates a run's model on any labelled folder (all of its images, whatever their split folder), and
// writes the report into the run folder. Must not import electron or anything from main/electron,
// main/server, main/cli or renderer.

import { join } from 'node:path';
import { encodeSafetensors } from '../../../models/core/safetensors.js';
import { AttentionVgg } from '../../../models/tfjs/model.js';
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
}

/**
 * `device`: evaluate on onnxruntime on that device (the exported model, as training evaluates);
 * absent: on TensorFlow.js.
 */
export async function evaluateRunOnFolder(
  runDir: string,
  folder: string,
  name = `eval-${Date.now()}`,
  device?: Device,
): Promise<FolderEvaluation> {
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
  const options = {
    classes: record.classes,
    split: folder,
    inputSize: record.spec.inputSize,
    batchSize: 32,
    mean: record.config.mean,
    std: record.config.std,
    keepMisclassifiedMaps: record.config.keepMisclassifiedMaps,
  };
  const model = device === undefined ? AttentionVgg.fromWeights(record.spec, run.weights) : null;
  try {
    const { report, maps } = model
      ? await evaluateModel(model, items, options)
      : await evaluateOnOnnxruntime(record.spec, run.weights, items, options, undefined, device);
    const reportPath = join(runDir, `${name}.json`);
    const mapsPath = join(runDir, `${name}-maps.safetensors`);
    await writeFileAtomic(mapsPath, encodeSafetensors(maps));
    await writeJsonAtomic(reportPath, report);
    return { report, reportPath, mapsPath };
  } finally {
    model?.dispose();
  }
}
