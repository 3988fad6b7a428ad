// The one API contract between the UI and the Node side: every method with the schema of its request and
// of its response. Electron IPC and the browser-mode WebSocket carry exactly these calls; both validate
// requests with these schemas where they enter the Node side. Must not import Node, electron, services
// or anything above main/api (the renderer imports this file).
import { z } from 'zod';
import { AppInfoSchema, ClassifyStartSchema, ExportResultSchema, ModelListSchema } from './app-schemas.js';
import {
  DatasetEntrySchema,
  DatasetScanSummarySchema,
  FolderListingSchema,
  FolderPathSchema,
  ThumbnailSchema,
} from './datasets-schemas.js';
import {
  AttentionResultSchema,
  EvaluationReportSchema,
  ImageFilterSchema,
  ImagePageSchema,
} from './evaluation-schemas.js';
import {
  PresetSchema,
  RunDetailsSchema,
  RunIdSchema,
  RunSummarySchema,
  TrainingSettingsSchema,
} from './training-schemas.js';

function method<Req extends z.ZodType, Res extends z.ZodType>(request: Req, response: Res, summary: string) {
  return { request, response, summary };
}

const RunRef = z.object({ runId: RunIdSchema });
const DatasetId = z.string().min(1).max(100);
const ImagePath = z.string().min(1).max(4096);

export const API = {
  'app.info': method(z.object({}), AppInfoSchema, 'versions, workspace and compute backend'),

  'datasets.scan': method(
    z.object({ path: FolderPathSchema }),
    DatasetScanSummarySchema,
    'scan a folder without adding it',
  ),
  'datasets.list': method(z.object({}), z.array(DatasetEntrySchema), 'the datasets of the workspace'),
  'datasets.add': method(
    z.object({ path: FolderPathSchema, name: z.string().trim().max(200).optional() }),
    DatasetEntrySchema,
    'scan a folder and add it to the workspace (a reference, not a copy)',
  ),
  'datasets.rescan': method(z.object({ id: DatasetId }), DatasetEntrySchema, 'scan a dataset again'),
  'datasets.remove': method(
    z.object({ id: DatasetId }),
    z.object({ removed: z.boolean() }),
    'forget a dataset (its folder is left alone)',
  ),
  'datasets.thumbnails': method(
    z.object({
      paths: z.array(ImagePath).max(200),
      /** Inside this dataset (relative paths) or, without it, absolute paths of images the app knows. */
      datasetId: DatasetId.optional(),
      size: z.number().int().min(16).max(512).optional(),
    }),
    z.array(ThumbnailSchema),
    'small PNG previews of images',
  ),
  'folders.list': method(
    z.object({ path: z.string().max(4096).optional() }),
    FolderListingSchema,
    'sub-folders of a folder, for picking a dataset in browser mode',
  ),

  'training.start': method(
    z.object({
      datasetId: DatasetId,
      preset: PresetSchema.optional(),
      settings: TrainingSettingsSchema.optional(),
    }),
    RunSummarySchema,
    'start a new run in a worker',
  ),
  'training.pause': method(RunRef, RunSummarySchema, 'stop at the next step, keeping a checkpoint'),
  'training.resume': method(RunRef, RunSummarySchema, 'continue a paused, cancelled or failed run'),
  'training.cancel': method(RunRef, RunSummarySchema, 'stop for good (the checkpoint is kept)'),
  'training.runs': method(z.object({}), z.array(RunSummarySchema), 'the runs of the workspace, newest first'),
  'training.run': method(RunRef, RunDetailsSchema, "a run's settings and metrics history"),

  'evaluation.report': method(RunRef, EvaluationReportSchema, "a finished run's evaluation"),
  'evaluation.images': method(
    RunRef.extend({
      filter: ImageFilterSchema.optional(),
      offset: z.number().int().min(0).optional(),
      limit: z.number().int().min(1).max(500).optional(),
    }),
    ImagePageSchema,
    'evaluated images matching a filter (a confusion cell, the misclassified, a confidence range)',
  ),

  'attention.maps': method(
    RunRef.extend({ path: ImagePath, displaySize: z.number().int().min(32).max(1024).optional() }),
    AttentionResultSchema,
    "the model's prediction and attention maps for one image, computed now",
  ),

  'models.list': method(z.object({}), ModelListSchema, 'exported models'),
  'models.export': method(RunRef, ExportResultSchema, 'export a run to ONNX with its sidecar'),
  'classify.start': method(
    z.object({ modelId: z.string(), folder: FolderPathSchema }),
    ClassifyStartSchema,
    'classify a folder with an exported model',
  ),
} as const;

export type ApiMethod = keyof typeof API;
export const API_METHODS = Object.keys(API) as ApiMethod[];
export type ApiRequest<M extends ApiMethod> = z.input<(typeof API)[M]['request']>;
/** The request after validation (defaults applied, strings trimmed). */
export type ApiParsedRequest<M extends ApiMethod> = z.output<(typeof API)[M]['request']>;
export type ApiResponse<M extends ApiMethod> = z.output<(typeof API)[M]['response']>;

export function isApiMethod(name: unknown): name is ApiMethod {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(API, name);
}
