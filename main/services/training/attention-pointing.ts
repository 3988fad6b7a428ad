// Scores where a trained model looks on pictures with object boxes (the sample "shapes" data, or a user's
// dataset with boxes): runs the evaluation with the boxes (evaluate-model.ts), which plays the pointing
// game on every attention level and on the combined map. Must not import electron or anything from
// main/electron, main/backend, main/server, main/cli or renderer.

import { AttentionVgg } from '../../../models/tfjs/model.js';
import type { LabelledBox, ObjectBox } from '../boxes/box-types.js';
import type { LocalisationReport, LocalisationScore } from '../boxes/localisation.js';
import type { DatasetItem } from '../datasets/dataset-types.js';
import type { MapCombination } from '../heatmaps/attention-map.js';
import { evaluateModel } from './evaluate-model.js';
import type { RunModel } from './load-run-model.js';

export interface PointingReport extends LocalisationScore {
  /** Attention level used (1 = finest, S/4). */
  level: number;
}

export interface RunLocalisation {
  accuracy: number;
  localisation: LocalisationReport | null;
}

/** Boxes keyed by relativePath: one box each (the shapes' boxes.json) or labelled lists (find-boxes.ts). */
export type BoxesByPath = Readonly<Record<string, ObjectBox | readonly LabelledBox[]>>;

function labelledLists(boxes: BoxesByPath): Record<string, readonly LabelledBox[]> {
  return Object.fromEntries(
    Object.entries(boxes).map(([path, b]) => [
      path,
      typeof b[0] === 'number' ? [{ box: b as ObjectBox }] : (b as readonly LabelledBox[]),
    ]),
  );
}

/** Accuracy and localisation of a run's model on `items` (boxes in picture pixels as displayed). */
export async function localiseRun(
  run: RunModel,
  items: readonly DatasetItem[],
  boxes: BoxesByPath,
  combinations?: readonly MapCombination[],
): Promise<RunLocalisation> {
  const { spec, config } = run.record;
  if (!spec.attention)
    throw new Error('This model has no attention maps (it was trained with attention off).');
  const model = AttentionVgg.fromWeights(spec, run.weights);
  try {
    const { report } = await evaluateModel(model, items, {
      classes: run.record.classes,
      split: 'pointing',
      inputSize: spec.inputSize,
      batchSize: 32,
      mean: config.mean,
      std: config.std,
      keepMisclassifiedMaps: 0,
      boxes: labelledLists(boxes),
      combinations,
    });
    return { accuracy: report.metrics.accuracy, localisation: report.localisation ?? null };
  } finally {
    model.dispose();
  }
}

/** The pointing game on one attention level (default the finest) of the pictures that have a box. */
export async function attentionPointingGame(
  run: RunModel,
  items: readonly DatasetItem[],
  boxes: BoxesByPath,
  level = 1,
): Promise<PointingReport> {
  const { localisation } = await localiseRun(
    run,
    items.filter((i) => boxes[i.relativePath]),
    boxes,
  );
  const score = localisation?.levels[level - 1];
  if (!score) throw new Error(`No picture has a box, or the model has no attention level ${level}.`);
  return { ...score, level };
}
