// The classification and files parts of the API contract: the options of a batch classification, the
// job as the UI follows it (status and progress), pages of its result rows, the export of its files to a
// folder, and "open" for a file (shown in its folder on the desktop, its path and a preview in a browser).
// Pure zod schemas; must not import Node, electron, services or anything above main/api.
import { z } from 'zod';
import { DeviceChoiceSchema } from './app-schemas.js';
import { FolderPathSchema } from './datasets-schemas.js';

export const COLORMAPS = ['turbo', 'inferno', 'jet'] as const;
export const HEATMAP_LEVELS = ['combined', 1, 2, 3] as const;
export const HeatmapLevelSchema = z.union([z.literal('combined'), z.literal(1), z.literal(2), z.literal(3)]);
export type HeatmapLevel = z.infer<typeof HeatmapLevelSchema>;

/** What the Classify screen lets a user choose; anything left out takes its default. */
export const ClassifyOptionsSchema = z.strictObject({
  /** Write an overlay PNG per image (default on). */
  heatmaps: z.boolean().default(true),
  /** Which attention map the overlay shows: a level (1 = finest) or their combination. */
  level: HeatmapLevelSchema.default('combined'),
  colormap: z.enum(COLORMAPS).default('turbo'),
  opacity: z
    .number()
    .min(0, 'The opacity is between 0 and 1.')
    .max(1, 'The opacity is between 0 and 1.')
    .default(0.5),
  /** Under this top probability the label is "uncertain" (0: never). */
  threshold: z
    .number()
    .min(0, 'The threshold is between 0 and 1.')
    .max(1, 'The threshold is between 0 and 1.')
    .default(0),
  /** Where the model runs (default: ATTNVGG_DEVICE, else cpu). */
  device: DeviceChoiceSchema.optional(),
});
export type ClassifyOptions = z.output<typeof ClassifyOptionsSchema>;

export const JobIdSchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'A job id is letters, digits, dots, dashes and underscores.');

export const ClassifyStartRequestSchema = z.strictObject({
  modelId: z.string().trim().min(1, 'Choose an exported model first.').max(200),
  folder: FolderPathSchema,
  options: ClassifyOptionsSchema.optional(),
});

export const CLASSIFY_STATUSES = ['running', 'completed', 'cancelled', 'failed'] as const;
export const ClassifyStatusSchema = z.enum(CLASSIFY_STATUSES);
export type ClassifyStatus = z.infer<typeof ClassifyStatusSchema>;

export const ClassifyProgressSchema = z.object({
  /** Files finished (classified or failed). */
  done: z.number().int().nonnegative(),
  total: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
  imagesPerSecond: z.number().nonnegative(),
  /** Seconds left at the current rate; null before the first batch. */
  etaSeconds: z.number().nonnegative().nullable(),
});
export type ClassifyProgress = z.infer<typeof ClassifyProgressSchema>;

export const ClassifyCountsSchema = z.object({
  images: z.number().int(),
  ok: z.number().int(),
  failed: z.number().int(),
  uncertain: z.number().int(),
  /** Images per predicted label (classified images only; "uncertain" included). */
  byLabel: z.record(z.string(), z.number().int()),
  seconds: z.number(),
});

/** A classification job as the UI follows it; kept in the workspace after it ends. */
export const ClassifyJobSchema = z.object({
  id: z.string(),
  status: ClassifyStatusSchema,
  modelId: z.string(),
  modelPath: z.string(),
  classes: z.array(z.string()),
  folder: z.string(),
  /** Where results.csv, results.json and heatmaps/ are written (in the workspace). */
  outDir: z.string(),
  options: ClassifyOptionsSchema,
  startedAt: z.string(),
  updatedAt: z.string(),
  progress: ClassifyProgressSchema,
  summary: ClassifyCountsSchema.optional(),
  /** Why it failed or how it ended, in plain words. */
  message: z.string().optional(),
});
export type ClassifyJob = z.infer<typeof ClassifyJobSchema>;

export const ClassifyRowSchema = z.object({
  /** Position in the job's result list (stable once the job has ended). */
  index: z.number().int(),
  /** Absolute path of the picture. */
  path: z.string(),
  /** Path relative to the classified folder, '/' separators. */
  file: z.string(),
  status: z.enum(['ok', 'failed']),
  /** The top label, "uncertain" under the threshold, null when the file could not be used. */
  label: z.string().nullable(),
  uncertain: z.boolean(),
  top: z.array(z.object({ label: z.string(), probability: z.number() })),
  /** Absolute path of the overlay PNG, when one was written. */
  overlay: z.string().nullable(),
  error: z.object({ reason: z.string(), message: z.string() }).optional(),
});
export type ClassifyRow = z.infer<typeof ClassifyRowSchema>;

export const ClassifyRowFilterSchema = z.enum(['all', 'ok', 'problems', 'uncertain']);
export type ClassifyRowFilter = z.infer<typeof ClassifyRowFilterSchema>;

export const ClassifyResultsRequestSchema = z.strictObject({
  jobId: JobIdSchema,
  show: ClassifyRowFilterSchema.optional(),
  /** Only rows with this predicted label. */
  label: z.string().max(200).optional(),
  offset: z.number().int().min(0).optional(),
  limit: z.number().int().min(1).max(500).optional(),
});

export const ClassifyResultsPageSchema = z.object({
  jobId: z.string(),
  /** Rows matching the request's filter. */
  total: z.number().int(),
  offset: z.number().int(),
  rows: z.array(ClassifyRowSchema),
  /** True while the job still runs (the list grows as results are saved). */
  partial: z.boolean(),
  /** Files left out on purpose (hidden files, OS junk), with the reason. */
  skipped: z.number().int(),
});
export type ClassifyResultsPage = z.infer<typeof ClassifyResultsPageSchema>;

export const ClassifyExportRequestSchema = z.strictObject({
  jobId: JobIdSchema,
  folder: FolderPathSchema,
  /** Replace results files already in that folder (default: refuse). */
  overwrite: z.boolean().optional(),
});

export const ClassifyExportSchema = z.object({
  folder: z.string(),
  csv: z.string(),
  json: z.string(),
  /** Overlay PNGs copied (under <folder>/heatmaps/). */
  overlays: z.number().int(),
});
export type ClassifyExport = z.infer<typeof ClassifyExportSchema>;

export const FileRevealRequestSchema = z.strictObject({
  /** Absolute, or relative to the dataset's folder when datasetId is given. */
  path: z.string().min(1).max(4096),
  datasetId: z.string().min(1).max(100).optional(),
  previewSize: z.number().int().min(32).max(1024).optional(),
});

export const FileRevealSchema = z.object({
  /** The full path of the file. */
  path: z.string(),
  /** True when the desktop's file manager was asked to show it (Electron). */
  revealed: z.boolean(),
  /** A PNG data URL of the picture when it could be decoded. */
  preview: z.string().nullable(),
  /** Why there is no preview, in plain words. */
  previewError: z.string().optional(),
  exists: z.boolean(),
  bytes: z.number().int().nullable(),
});
export type FileReveal = z.infer<typeof FileRevealSchema>;

export const ExportStageSchema = z.enum(['started', 'finished', 'failed']);
