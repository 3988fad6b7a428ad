// The one API contract between the UI and the Node side: every method with the schema of its request and
// of its response. Electron IPC and the browser-mode WebSocket carry exactly these calls; both validate
// requests with these schemas where they enter the Node side. Must not import Node, electron, services
// or anything above main/api (the renderer imports this file).
import { z } from 'zod';
import { AppInfoSchema, DeviceChoiceSchema, ExportResultSchema, ModelListSchema } from './app-schemas.js';
import {
  BackboneAddRequestSchema,
  BackboneCatalogueRequestSchema,
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

/** The request of a method that takes no arguments: `{}` (or nothing at all, see parseApiRequest). */
const NoArguments = z.strictObject({});

function method<Req extends z.ZodType, Res extends z.ZodType>(request: Req, response: Res, summary: string) {
  return { request, response, summary };
}

const RunRef = z.strictObject({ runId: RunIdSchema });
const DatasetId = z.string().min(1).max(100);
const ImagePath = z.string().min(1).max(4096);

export const API = {
  'app.info': method(NoArguments, AppInfoSchema, 'versions, workspace and compute backend'),

  'datasets.scan': method(
    z.strictObject({ path: FolderPathSchema }),
    DatasetScanSummarySchema,
    'scan a folder without adding it',
  ),
  'datasets.list': method(NoArguments, z.array(DatasetEntrySchema), 'the datasets of the workspace'),
  'datasets.add': method(
    z.strictObject({ path: FolderPathSchema, name: z.string().trim().max(200).optional() }),
    DatasetEntrySchema,
    'scan a folder and add it to the workspace (a reference, not a copy)',
  ),
  'datasets.rescan': method(z.strictObject({ id: DatasetId }), DatasetEntrySchema, 'scan a dataset again'),
  'datasets.remove': method(
    z.strictObject({ id: DatasetId }),
    z.object({ removed: z.boolean() }),
    'forget a dataset (its folder is left alone)',
  ),
  'datasets.thumbnails': method(
    z.strictObject({
      paths: z.array(ImagePath).max(200),
      /** Inside this dataset (relative paths) or, without it, absolute paths of images the app knows. */
      datasetId: DatasetId.optional(),
      size: z.number().int().min(16).max(512).optional(),
    }),
    z.array(ThumbnailSchema),
    'small PNG previews of images',
  ),
  'folders.list': method(
    z.strictObject({
      path: z.string().max(4096).optional(),
      /** Also list the folder's files of this kind: 'weights' = backbone files (.onnx, .pth, .safetensors, .tar.gz ...). */
      files: z.enum(['onnx', 'weights']).optional(),
    }),
    FolderListingSchema,
    'sub-folders of a folder (and its files of one kind), for picking a dataset or a file in browser mode',
  ),

  'training.start': method(
    z.strictObject({
      datasetId: DatasetId,
      preset: PresetSchema.optional(),
      settings: TrainingSettingsSchema.strict().optional(),
      /** Start from this pretrained backbone of the workspace (backbones.list); the presets change meaning. */
      backboneId: BackboneIdSchema.optional(),
      /** Where onnxruntime trains (default: ATTNVGG_DEVICE, else cpu). */
      device: DeviceChoiceSchema.optional(),
    }),
    RunSummarySchema,
    'start a new run in a worker',
  ),
  'training.presets': method(
    z.strictObject({ backbone: z.boolean() }),
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
  'training.runs': method(NoArguments, z.array(RunSummarySchema), 'the runs of the workspace, newest first'),
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

  'models.list': method(NoArguments, ModelListSchema, 'exported models'),
  'models.export': method(
    RunRef,
    ExportResultSchema,
    'export a run to ONNX with its sidecar, in a worker (progress as export events)',
  ),

  'backbones.list': method(
    NoArguments,
    BackboneListSchema,
    'the built-in catalogue of ImageNet weights, the pretrained VGG16_bn backbones of the workspace, and whether a download runs',
  ),
  'backbones.add': method(
    BackboneAddRequestSchema,
    BackboneEntrySchema,
    'check a weights file the user picked (ONNX, .pth, safetensors, .tar.gz; in a worker) and add it, used where it is; refused with the reason when it cannot be imported',
  ),
  'backbones.download': method(
    BackboneDownloadRequestSchema,
    BackboneEntrySchema,
    'download a backbone into the workspace cache (resumes, checks the SHA-256), check and add it (progress as backbone-download events)',
  ),
  'backbones.downloadCatalogue': method(
    BackboneCatalogueRequestSchema,
    BackboneEntrySchema,
    'download a catalogue entry (ImageNet weights) into the workspace unless it is there, checked by its published checksum, and add it (progress as backbone-download events)',
  ),
  'backbones.cancelDownload': method(
    NoArguments,
    z.object({ cancelled: z.boolean() }),
    'stop the running download (what arrived is kept, so the next download of that URL resumes)',
  ),
  'backbones.remove': method(
    z.strictObject({ id: BackboneIdSchema }),
    z.object({ removed: z.boolean() }),
    'forget a backbone (a downloaded file is deleted from the cache; a picked file is left alone)',
  ),

  'classify.start': method(
    ClassifyStartRequestSchema,
    ClassifyJobSchema,
    'classify a folder with an exported model, in a worker (progress as classify events)',
  ),
  'classify.cancel': method(
    z.strictObject({ jobId: JobIdSchema }),
    ClassifyJobSchema,
    'stop a classification after the batch in progress (the results so far are kept)',
  ),
  'classify.jobs': method(
    NoArguments,
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
    z.strictObject({ compareId: CompareIdSchema }),
    CompareJobSchema,
    'stop a comparison at the next training step (no report; the run folders keep their checkpoints)',
  ),
  'compare.list': method(
    NoArguments,
    z.array(CompareJobSchema),
    'the comparisons of the workspace, newest first',
  ),
  'compare.get': method(
    z.strictObject({ compareId: CompareIdSchema }),
    CompareDetailsSchema,
    "a comparison with its report (compare.json) and both models' training history",
  ),
  'compare.html': method(
    z.strictObject({ compareId: CompareIdSchema }),
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

/** True for the methods whose request is `{}`: the only ones a missing or null payload may call. */
export function takesNoArguments(method: ApiMethod): boolean {
  return API[method].request === NoArguments;
}

/**
 * Validates a call's payload against the method's request schema, where every transport's calls enter
 * the Node side. Requests are strict objects (unknown keys are refused, not dropped); a payload that is
 * undefined or null stands for `{}` only when the method takes no arguments.
 */
export function parseApiRequest(method: ApiMethod, payload: unknown) {
  const absent = payload === undefined || payload === null;
  return API[method].request.safeParse(absent && takesNoArguments(method) ? {} : payload);
}
