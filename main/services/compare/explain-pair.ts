// The fourth phase of a comparison (compare-attention.ts): a sample of evaluation pictures explained
// with both models (the attention model's own maps, Grad-CAM of the plain model: explain.ts), and, where
// the dataset has object boxes (boxes/find-boxes.ts), the pointing game for both. Must not import
// electron or anything from main/electron, main/backend, main/server, main/cli or renderer.

import { AttentionVgg } from '../../../models/tfjs/model.js';
import type { ObjectBox } from '../boxes/box-types.js';
import { boxesOfClass, findDatasetBoxes } from '../boxes/find-boxes.js';
import { boxesToInput } from '../boxes/map-box.js';
import type { DatasetItem } from '../datasets/dataset-types.js';
import type { CompareReport } from './compare-report.js';
import type { CompareSession } from './compare-session.js';
import type { PairEvaluation } from './evaluate-pair.js';
import {
  pairedPointingGame,
  renderExplanations,
  sampleForExplanations,
  type ExplanationImage,
  type ModelPair,
} from './explain.js';
import { openPlainGradCam } from './plain-grad-cam.js';

export interface PairExplanations {
  explanations: ExplanationImage[];
  /** The pointing game; null when no evaluated picture has a box. */
  pointing: CompareReport['pointing'];
  /** The pixel size the pictures are drawn at. */
  displaySize: number;
}

/** Explains the sample and plays the pointing game, then frees both models. */
export async function explainBoth(
  session: CompareSession,
  evaluated: PairEvaluation,
): Promise<PairExplanations> {
  const { options } = session;
  const { runModels, records, config, evalItems } = evaluated;
  const plainGradCam = await openPlainGradCam(
    runModels[1].record.spec,
    runModels[1].weights,
    runModels[1].record.device ?? 'cpu',
    session.warn,
  );
  const pair: ModelPair = {
    attention: AttentionVgg.fromWeights(runModels[0].record.spec, runModels[0].weights),
    plain: plainGradCam,
    classes: records[0].classes,
    inputSize: config.inputSize,
    mean: config.mean,
    std: config.std,
  };
  const displaySize = options.explainSize ?? Math.max(128, config.inputSize);
  let explanations: ExplanationImage[];
  let pointing: CompareReport['pointing'];
  try {
    session.emit({ type: 'phase', phase: 'explaining' });
    explanations = await renderExplanations(
      pair,
      sampleForExplanations(evalItems, options.explainImages ?? 8),
      displaySize,
    );
    session.checkStop();
    pointing = await pointingOf(session, pair, evaluated);
  } finally {
    pair.attention.dispose();
    await plainGradCam.dispose();
  }
  session.checkStop();
  return { explanations, pointing, displaySize };
}

/** The pointing game of both models, with the attention model's own localisation scores; null without boxes. */
async function pointingOf(
  session: CompareSession,
  pair: ModelPair,
  { evalItems, evalSet, config, evaluations }: PairEvaluation,
): Promise<CompareReport['pointing']> {
  const boxes = await boxesOf(session.dataset, evalItems, config.inputSize);
  if (!boxes) return null;
  session.emit({ type: 'phase', phase: 'pointing-game' });
  const p = await pairedPointingGame(pair, evalItems, boxes.boxes, boxes.size);
  const own = evaluations[0].localisation;
  return {
    split: evalSet.split,
    ...p,
    ...(own ? { attention: { images: own.images, levels: own.levels, combined: own.combined } } : {}),
  };
}

/**
 * Boxes of the evaluated pictures in input pixels (size x size, the resize policy applied: boxes/map-box.ts),
 * only those of each picture's own class, or null when no picture has one.
 */
async function boxesOf(
  folder: string,
  items: readonly DatasetItem[],
  size: number,
): Promise<{ boxes: Record<string, ObjectBox[]>; size: number } | null> {
  const found = await findDatasetBoxes(folder, items);
  const boxes: Record<string, ObjectBox[]> = {};
  for (const item of items) {
    const list = found.boxes.get(item.relativePath);
    if (!list) continue;
    const own = boxesToInput(boxesOfClass(list, item.label), {
      width: item.width,
      height: item.height,
      size,
    });
    if (own.length > 0) boxes[item.relativePath] = own.map((b) => b.box);
  }
  return Object.keys(boxes).length > 0 ? { boxes, size } : null;
}
