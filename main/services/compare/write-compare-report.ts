// The last phase of a comparison (compare-attention.ts): the explanation pictures written as PNGs
// (<outDir>/explanations/), the report assembled and checked against its schema (compare-report.ts), and
// written, atomically, as compare.json and as a self-contained compare.html (compare-html.ts) that embeds
// the pictures as JPEGs. Must not import electron or anything from main/electron, main/backend, main/server, main/cli or
// renderer.

import { mkdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import sharp from 'sharp';
import type { ExportResult } from '../export/export-run.js';
import { countParameters } from '../../../models/core/spec.js';
import { APP_VERSION } from '../app-version.js';
import { writeFileAtomic, writeJsonAtomic } from '../storage/atomic-write.js';
import type { EvaluationReport } from '../training/evaluate-model.js';
import type { RunModel } from '../training/load-run-model.js';
import { renderCompareHtml } from './compare-html.js';
import {
  COMPARE_FORMAT,
  parseCompareReport,
  type CompareReport,
  type ModelSummary,
} from './compare-report.js';
import type { CompareSession } from './compare-session.js';
import { COMPARE_FILES } from './compare-types.js';
import type { PairEvaluation } from './evaluate-pair.js';
import type { ExplanationImage } from './explain.js';
import type { PairExplanations } from './explain-pair.js';
import type { InferenceTiming } from './inference-timing.js';
import { classDifferences } from './paired-results.js';
import type { TrainedModel } from './train-pair.js';

/** What the earlier phases found, all that the report is made of. */
export interface CompareFindings {
  trained: TrainedModel[];
  evaluated: PairEvaluation;
  exported: ExportResult[];
  timing: InferenceTiming;
  explained: PairExplanations;
}

export interface WrittenReport {
  report: CompareReport;
  reportPath: string;
  htmlPath: string;
}

type ExplainedImage = CompareReport['explanations']['images'][number];

/** Writes the pictures, compare.json and compare.html. */
export async function writeCompareReport(
  session: CompareSession,
  findings: CompareFindings,
): Promise<WrittenReport> {
  const { outDir } = session;
  session.emit({ type: 'phase', phase: 'writing-report' });
  const { pngs, explained } = await writeExplanationPictures(outDir, findings.explained.explanations);
  const report = assembleReport(session, findings, explained);
  const reportPath = join(outDir, COMPARE_FILES.report);
  const htmlPath = join(outDir, COMPARE_FILES.html);
  await writeJsonAtomic(reportPath, report);
  await writeFileAtomic(htmlPath, renderCompareHtml(report, await asJpegs(pngs)));
  return { report, reportPath, htmlPath };
}

/** Writes each explanation's picture and overlays; gives the PNGs by report path and the report's entries. */
async function writeExplanationPictures(
  outDir: string,
  explanations: readonly ExplanationImage[],
): Promise<{ pngs: Map<string, Uint8Array>; explained: ExplainedImage[] }> {
  await mkdir(join(outDir, COMPARE_FILES.explanations), { recursive: true });
  const pngs = new Map<string, Uint8Array>();
  const explained: ExplainedImage[] = [];
  for (const [i, e] of explanations.entries()) {
    const files = {
      picture: `${COMPARE_FILES.explanations}/${i}-picture.png`,
      attention: `${COMPARE_FILES.explanations}/${i}-attention.png`,
      plain: `${COMPARE_FILES.explanations}/${i}-plain-gradcam.png`,
    };
    pngs.set(files.picture, e.picture);
    pngs.set(files.attention, e.attentionOverlay);
    pngs.set(files.plain, e.gradCamOverlay);
    explained.push({
      relativePath: e.item.relativePath,
      label: e.item.label,
      picture: files.picture,
      attention: {
        predicted: e.attentionPredicted,
        confidence: e.attentionConfidence,
        overlay: files.attention,
      },
      plain: { predicted: e.plainPredicted, confidence: e.plainConfidence, overlay: files.plain },
    });
  }
  for (const [file, png] of pngs) await writeFileAtomic(join(outDir, file), png);
  return { pngs, explained };
}

/** The page embeds JPEGs (quality 90): the PNGs of cluttered pictures would make it about 1 MB. */
async function asJpegs(pngs: ReadonlyMap<string, Uint8Array>): Promise<Map<string, Uint8Array>> {
  const embedded = new Map<string, Uint8Array>();
  for (const [file, png] of pngs)
    embedded.set(
      file,
      new Uint8Array(await sharp(png).jpeg({ quality: 90, chromaSubsampling: '4:4:4' }).toBuffer()),
    );
  return embedded;
}

/** The report, checked against its schema. */
function assembleReport(
  session: CompareSession,
  { trained, evaluated, exported, timing, explained }: CompareFindings,
  images: ExplainedImage[],
): CompareReport {
  const { outDir, dataset, options } = session;
  const { config, records, runModels, evaluations, evalSet, table, test, verdict, budget } = evaluated;
  const summaries = trained.map((t, i) =>
    summaryOf(outDir, t, runModels[i], evaluations[i], {
      modelFile: relative(outDir, exported[i].modelPath),
      onnxBytes: exported[i].bytes,
      images: timing.images,
      batch: timing.batch,
      threads: timing.threads,
      rounds: timing.rounds,
      imagesPerSecond: timing.imagesPerSecond[i],
      roundImagesPerSecond: timing.roundImagesPerSecond[i],
    }),
  );
  const [attEval, plainEval] = evaluations;
  const { dataset: _dataset, attention: _attention, ...shared } = config;
  return parseCompareReport({
    format: COMPARE_FORMAT,
    createdAt: new Date().toISOString(),
    appVersion: APP_VERSION,
    dataset,
    classes: records[0].classes,
    settings: { preset: options.preset ?? null, budget, training: shared },
    models: { attention: summaries[0], plain: summaries[1] },
    paired: { split: evalSet.split, ...table, mcnemar: test },
    verdict,
    perClass: classDifferences(attEval.metrics.perClass, plainEval.metrics.perClass),
    explanations: { size: explained.displaySize, images },
    pointing: explained.pointing,
    warnings: session.warnings,
  } satisfies CompareReport);
}

/** One model's part of the report. */
function summaryOf(
  outDir: string,
  trained: TrainedModel,
  runModel: RunModel,
  evaluation: EvaluationReport,
  inference: ModelSummary['inference'],
): ModelSummary {
  const { spec } = runModel.record;
  const m = evaluation.metrics;
  return {
    runDir: relative(outDir, trained.runDir),
    status: trained.status,
    attention: spec.attention,
    spec: { ...spec },
    parameters: {
      total: countParameters(spec),
      trainable: countParameters(spec, (p) => p.trainable),
    },
    evaluation: {
      split: evaluation.split,
      images: m.total,
      correct: evaluation.predictions.filter((p) => p.correct).length,
      accuracy: m.accuracy,
      accuracyInterval: m.accuracyInterval,
      macroF1: m.macroF1,
      loss: Number.isFinite(evaluation.loss) ? evaluation.loss : null,
      perClass: m.perClass,
      confusion: m.confusion,
      weights: runModel.source,
    },
    training: {
      stoppedBy: trained.stoppedBy,
      epochsCompleted: trained.epochs,
      steps: trained.steps,
      images: trained.images,
      trainSeconds: trained.trainSeconds,
      wallSeconds: trained.wallSeconds,
      imagesPerSecond: trained.trainSeconds > 0 ? trained.images / trained.trainSeconds : 0,
      backend: trained.backend,
    },
    inference,
  };
}
