// The second phase of a comparison (compare-attention.ts): both trained models evaluated on the same
// images (their runs' own evaluations, or, for a run the time limit stopped, an evaluation made here the
// way the training loop would have), their predictions paired, McNemar's test run on the pairs and the
// verdict worded. Must not import electron or anything from main/electron, main/backend, main/server, main/cli or
// renderer.

import { readFile } from 'node:fs/promises';
import { selectBackend } from '../../../models/tfjs/backend.js';
import { AttentionVgg } from '../../../models/tfjs/model.js';
import type { DatasetItem } from '../datasets/dataset-types.js';
import { scanDataset } from '../datasets/scan-dataset.js';
import { writeJsonAtomic } from '../storage/atomic-write.js';
import { evaluateModel, type EvaluationReport } from '../training/evaluate-model.js';
import { loadRunModel, type RunModel } from '../training/load-run-model.js';
import { readRunRecord, runPath, type RunRecord } from '../training/run-folder.js';
import type { TrainingConfig } from '../training/training-config.js';
import type { CompareBudget } from './compare-report.js';
import type { CompareSession } from './compare-session.js';
import { CompareError } from './compare-types.js';
import type { McNemarResult } from './mcnemar.js';
import { pairedTest, pairPredictions, verdictOf, type PairedTable, type Verdict } from './paired-results.js';
import { budgetOf, type TrainedModel } from './train-pair.js';

/** The images both models were evaluated on. */
export interface EvaluationSet {
  split: string;
  items: DatasetItem[];
}

export interface PairEvaluation {
  /** The two runs' records, attention first (the classes and settings come from the first). */
  records: RunRecord[];
  /** The attention run's training configuration (both runs share it but for attention). */
  config: TrainingConfig;
  budget: CompareBudget;
  evalSet: EvaluationSet;
  /** The evaluation set's pictures the models were evaluated on (those that decoded). */
  evalItems: DatasetItem[];
  /** The weights each run's export would use, attention first. */
  runModels: RunModel[];
  evaluations: EvaluationReport[];
  table: PairedTable;
  test: McNemarResult;
  verdict: Verdict;
}

/** Evaluates both models, pairs their predictions and words the verdict. */
export async function evaluateBoth(
  session: CompareSession,
  trained: TrainedModel[],
): Promise<PairEvaluation> {
  const { options } = session;
  session.emit({ type: 'phase', phase: 'evaluating' });
  // Evaluating a run stopped by the time limit, the attention model's maps in the explanations and the
  // pointing game run the models in TensorFlow.js, whichever engine trained them; Grad-CAM of the plain
  // model runs on onnxruntime, on the device its run trained on (plain-grad-cam.ts).
  await selectBackend(options.backend ? { prefer: options.backend } : {});
  const records = await Promise.all(trained.map((t) => readRunRecord(t.runDir)));
  const config = records[0].config;
  const budget = budgetOf(options.timeLimitSeconds, config.epochs);
  const scan = await scanDataset(session.dataset, { valFraction: config.valFraction, seed: config.seed });
  const evalSet = evaluationItems(scan.items);
  const runModels = await Promise.all(trained.map((t) => loadRunModel(t.runDir)));
  const evaluations: EvaluationReport[] = [];
  for (const [i, t] of trained.entries()) {
    session.checkStop();
    evaluations.push(await evaluationOf(t.runDir, runModels[i], evalSet));
  }
  const paired = pairEvaluations(session, evaluations);
  warnUnfinishedEpochs(session, trained);
  const evaluated = new Set(evaluations[0].predictions.map((p) => p.path));
  const evalItems = evalSet.items.filter((i) => evaluated.has(i.path));
  return { records, config, budget, evalSet, evalItems, runModels, evaluations, ...paired };
}

/** The paired table of the two evaluations, McNemar's test on it and the verdict. */
function pairEvaluations(
  session: CompareSession,
  [attEval, plainEval]: EvaluationReport[],
): { table: PairedTable; test: McNemarResult; verdict: Verdict } {
  if (attEval.split !== plainEval.split)
    throw new CompareError(
      `The two runs were evaluated on different splits (${attEval.split}, ${plainEval.split}); the comparison needs the same images.`,
    );
  const table = pairPredictions(attEval, plainEval);
  if (table.unpaired > 0)
    session.warn(
      `${table.unpaired} images were evaluated by only one of the models and are left out of the paired test.`,
    );
  const test = pairedTest(table);
  const verdict = verdictOf(table, test, session.options.alpha ?? 0.05);
  return { table, test, verdict };
}

function warnUnfinishedEpochs(session: CompareSession, trained: readonly TrainedModel[]): void {
  for (const t of trained)
    if (t.stoppedBy === 'time-limit' && t.epochs === 0)
      session.warn(
        `The ${t.which} model did not finish one epoch within the time limit; it is evaluated as it stood.`,
      );
}

/** The split the training loop evaluates on: test when there is one, else validation, else training. */
function evaluationItems(items: readonly DatasetItem[]): EvaluationSet {
  for (const split of ['test', 'val', 'train'] as const) {
    const list = items.filter((i) => i.split === split);
    if (list.length > 0) return { split, items: list };
  }
  return { split: 'test', items: [] };
}

/**
 * The run's evaluation.json; a run stopped by the time limit has none, so its model (the weights export
 * would use: best epoch, else the last checkpoint) is evaluated here on the same split, and the report
 * written into the run folder as the loop would have.
 */
async function evaluationOf(
  runDir: string,
  runModel: RunModel,
  evalSet: EvaluationSet,
): Promise<EvaluationReport> {
  try {
    const report = JSON.parse(await readFile(runPath(runDir, 'evaluation'), 'utf8')) as EvaluationReport;
    if (report.format === 'attnvgg-evaluation/1') return report;
  } catch {
    // not written: the run was stopped by the time limit
  }
  const { record } = runModel;
  const model = AttentionVgg.fromWeights(record.spec, runModel.weights);
  try {
    const { report } = await evaluateModel(model, evalSet.items, {
      classes: record.classes,
      split: evalSet.split,
      inputSize: record.spec.inputSize,
      batchSize: Math.max(32, record.config.batchSize),
      mean: record.config.mean,
      std: record.config.std,
      keepMisclassifiedMaps: 0,
    });
    await writeJsonAtomic(runPath(runDir, 'evaluation'), report);
    return report;
  } finally {
    model.dispose();
  }
}
