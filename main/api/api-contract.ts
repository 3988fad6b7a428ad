// The one API contract between the UI and the Node side: every method with the schema of its request and
// of its response. Electron IPC and the browser-mode WebSocket carry exactly these calls; both validate
// requests with these schemas where they enter the Node side. Must not import Node, electron, services
// or anything above main/api (the renderer imports this file).
import { z } from 'zod';
import { AppInfoSchema, DeviceChoiceSchema, ExportResultSchema, ModelListSchema } from './app-schemas.js';
import {
  BackboneAddRequestSchema,
  BackboneDownloadRequestSchema,
  BackboneEntrySchema,
  BackboneIdSchema,
  BackboneListSchema,
} from './backbone-schemas.js';
import {
  ClassifyExportRequestSchema,
  ClassifyExportSchema,
  ClassifyJobSchema,
  ClassifyResultsPageSchema,
  ClassifyResultsRequestSchema,
  ClassifyStartRequestSchema,
  FileRevealRequestSchema,
  FileRevealSchema,
  JobIdSchema,
} from './classify-schemas.js';
import {
  CompareDetailsSchema,
  CompareHtmlSchema,
  CompareIdSchema,
  CompareJobSchema,
  CompareStartRequestSchema,
} from './compare-schemas.js';
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
  PresetValuesSchema,
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
    z.object({
      path: z.string().max(4096).optional(),
      /** Also list the files of the folder with this extension (picking a backbone file). */
      files: z.enum(['onnx']).optional(),
    }),
    FolderListingSchema,
    'sub-folders of a folder (and its files of one kind), for picking a dataset or a file in browser mode',
  ),

  'training.start': method(
    z.object({
      datasetId: DatasetId,
      preset: PresetSchema.optional(),
      settings: TrainingSettingsSchema.optional(),
      /** Start from this pretrained backbone of the workspace (backbones.list); the presets change meaning. */
      backboneId: BackboneIdSchema.optional(),
      /** Where onnxruntime trains (default: ATTNVGG_DEVICE, else cpu). */
      device: DeviceChoiceSchema.optional(),
    }),
    RunSummarySchema,
    'start a new run in a worker',
  ),
  'training.presets': method(
    z.object({ backbone: z.boolean() }),
    z.array(PresetValuesSchema),
    'what each preset sets, from scratch or from a pretrained backbone',
  ),
  'training.pause': method(RunRef, RunSummarySchema, 'stop at the next step, keeping a checkpoint'),
  'training.resume': method(
    RunRef.extend({ device: DeviceChoiceSchema.optional() }),
    RunSummarySchema,
    'continue a paused, cancelled or failed run (on its device, or on `device`)',
  ),
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
  'models.export': method(
    RunRef,
    ExportResultSchema,
    'export a run to ONNX with its sidecar, in a worker (progress as export events)',
  ),

  'backbones.list': method(
    z.object({}),
    BackboneListSchema,
    'the pretrained VGG16_bn backbones of the workspace, and whether a download runs',
  ),
  'backbones.add': method(
    BackboneAddRequestSchema,
    BackboneEntrySchema,
    'check an ONNX file the user picked (in a worker) and add it, used where it is; refused with the reason when it cannot be imported',
  ),
  'backbones.download': method(
    BackboneDownloadRequestSchema,
    BackboneEntrySchema,
    'download a backbone into the workspace cache (resumes, checks the SHA-256), check and add it (progress as backbone-download events)',
  ),
  'backbones.cancelDownload': method(
    z.object({}),
    z.object({ cancelled: z.boolean() }),
    'stop the running download (what arrived is kept, so the next download of that URL resumes)',
  ),
  'backbones.remove': method(
    z.object({ id: BackboneIdSchema }),
    z.object({ removed: z.boolean() }),
    'forget a backbone (a downloaded file is deleted from the cache; a picked file is left alone)',
  ),

  'classify.start': method(
    ClassifyStartRequestSchema,
    ClassifyJobSchema,
    'classify a folder with an exported model, in a worker (progress as classify events)',
  ),
  'classify.cancel': method(
    z.object({ jobId: JobIdSchema }),
    ClassifyJobSchema,
    'stop a classification after the batch in progress (the results so far are kept)',
  ),
  'classify.jobs': method(
    z.object({}),
    z.array(ClassifyJobSchema),
    'the classifications of the workspace, newest first',
  ),
  'classify.results': method(
    ClassifyResultsRequestSchema,
    ClassifyResultsPageSchema,
    "a page of a classification's result rows (all, classified, problems or uncertain)",
  ),
  'classify.export': method(
    ClassifyExportRequestSchema,
    ClassifyExportSchema,
    "copy a classification's results.csv, results.json and overlay PNGs into a folder",
  ),

  'compare.start': method(
    CompareStartRequestSchema,
    CompareJobSchema,
    'train the attention model and the plain VGG16_bn head on one dataset with the same budget, in a worker (progress as compare events)',
  ),
  'compare.cancel': method(
    z.object({ compareId: CompareIdSchema }),
    CompareJobSchema,
    'stop a comparison at the next training step (no report; the run folders keep their checkpoints)',
  ),
  'compare.list': method(
    z.object({}),
    z.array(CompareJobSchema),
    'the comparisons of the workspace, newest first',
  ),
  'compare.get': method(
    z.object({ compareId: CompareIdSchema }),
    CompareDetailsSchema,
    "a comparison with its report (compare.json) and both models' training history",
  ),
  'compare.html': method(
    z.object({ compareId: CompareIdSchema }),
    CompareHtmlSchema,
    "a finished comparison's self-contained HTML report, for a browser to open as a page",
  ),

  'files.reveal': method(
    FileRevealRequestSchema,
    FileRevealSchema,
    'open a file the app knows: shown in its folder on the desktop, its full path and a preview in a browser',
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
