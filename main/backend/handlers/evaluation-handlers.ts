// API handlers for evaluation and attention: a run's evaluation report, pages of evaluated images by
// filter (a confusion cell, the misclassified, a confidence range), and one image's attention maps
// computed now by the inference worker. Must not import electron or renderer.
import { readFile, stat } from 'node:fs/promises';
import { ApiError, type ApiHandlers, type EvaluatedImage, type ImageFilter } from '../../api/index.js';
import { pictureBoxes } from '../../services/boxes/picture-boxes.js';
import type { EvaluationReport as ServiceReport } from '../../services/training/evaluate-model.js';
import { readRunRecord, runPath } from '../../services/training/run-folder.js';
import type { BackendContext } from '../backend-context.js';
import { allowedImageRoots } from '../image-roots.js';
import { checkAllowedFile } from '../path-guard.js';

type EvaluationHandlers = Pick<ApiHandlers, 'evaluation.report' | 'evaluation.images' | 'attention.maps'>;

const reports = new Map<string, { key: string; report: ServiceReport }>();

async function readReport(runDir: string): Promise<ServiceReport> {
  const file = runPath(runDir, 'evaluation');
  const info = await stat(file).catch(() => null);
  if (!info) {
    const record = await readRunRecord(runDir).catch(() => null);
    if (!record) throw new ApiError('not-found', 'There is no such run in this workspace.');
    throw new ApiError(
      'not-available',
      record.status === 'running'
        ? 'The run is still training; its evaluation is written when it finishes.'
        : `This run has no evaluation yet (status: ${record.status}). Resume it to finish training.`,
    );
  }
  const key = `${info.size}:${info.mtimeMs}`;
  const cached = reports.get(runDir);
  if (cached?.key === key) return cached.report;
  try {
    const report = JSON.parse(await readFile(file, 'utf8')) as ServiceReport;
    if (report.format !== 'attnvgg-evaluation/1') throw new Error('format');
    reports.set(runDir, { key, report });
    return report;
  } catch {
    throw new ApiError('failed', `${file} is damaged; evaluate the run again from the command line.`);
  }
}

function matches(p: ServiceReport['predictions'][number], filter: ImageFilter): boolean {
  if (filter.label !== undefined && p.label !== filter.label) return false;
  if (filter.predicted !== undefined && p.predicted !== filter.predicted) return false;
  if (filter.correct !== undefined && p.correct !== filter.correct) return false;
  if (filter.minConfidence !== undefined && p.confidence < filter.minConfidence) return false;
  if (filter.maxConfidence !== undefined && p.confidence > filter.maxConfidence) return false;
  return true;
}

export function evaluationHandlers(context: BackendContext): EvaluationHandlers {
  const { workspace, inference } = context;
  return {
    'evaluation.report': async ({ runId }) => {
      const report = await readReport(workspace.runDir(runId));
      const m = report.metrics;
      return {
        runId,
        split: report.split,
        classes: report.classes,
        accuracy: m.accuracy,
        accuracyInterval: m.accuracyInterval,
        total: m.total,
        macroF1: m.macroF1,
        confusion: m.confusion,
        perClass: m.perClass,
        loss: Number.isFinite(report.loss) ? report.loss : null,
        misclassified: report.predictions.filter((p) => !p.correct).length,
        skipped: report.skipped.length,
        seconds: report.seconds,
        ...(report.localisation
          ? {
              localisation: {
                images: report.localisation.images,
                levels: report.localisation.levels,
                combined: report.localisation.combined,
              },
            }
          : {}),
      };
    },

    'evaluation.images': async ({ runId, filter, offset, limit }) => {
      const report = await readReport(workspace.runDir(runId));
      const selected: EvaluatedImage[] = [];
      report.predictions.forEach((p, index) => {
        if (matches(p, filter ?? {}))
          selected.push({
            index,
            path: p.path,
            relativePath: p.relativePath,
            label: p.label,
            predicted: p.predicted,
            confidence: p.confidence,
            correct: p.correct,
          });
      });
      const start = offset ?? 0;
      return { total: selected.length, offset: start, items: selected.slice(start, start + (limit ?? 100)) };
    },

    'attention.maps': async ({ runId, path, displaySize }) => {
      const runDir = workspace.runDir(runId);
      const record = await readRunRecord(runDir).catch(() => {
        throw new ApiError('not-found', `There is no run "${runId}" in this workspace.`);
      });
      const file = await checkAllowedFile(path, await allowedImageRoots(workspace));
      const size = displaySize ?? 256;
      const answer = await inference.attentionMaps(runDir, file, size);
      const boxes = await pictureBoxes(record.config.dataset, file, answer.imageSize).catch(() => []);
      let best = 0;
      answer.probabilities.forEach((p, i) => {
        if (p > answer.probabilities[best]) best = i;
      });
      return {
        runId,
        path,
        image: `data:image/png;base64,${Buffer.from(answer.png).toString('base64')}`,
        imageSize: answer.imageSize,
        inputSize: answer.inputSize,
        maps: answer.maps,
        predicted: answer.classes[best] ?? '',
        confidence: answer.probabilities[best] ?? 0,
        probabilities: answer.classes.map((label, i) => ({ label, p: answer.probabilities[i] })),
        ...(record.config.attention
          ? {}
          : { note: 'This run was trained without attention, so it has no maps.' }),
        ...(boxes.length > 0
          ? {
              boxes: boxes.map((b) => ({
                box: [...b.box] as [number, number, number, number],
                ...(b.label !== undefined ? { label: b.label } : {}),
              })),
            }
          : {}),
      };
    },
  };
}
