// The datasets part of the API contract: a folder scan summarised for the UI, the workspace's list of
// datasets and thumbnails. Pure zod schemas; must not import Node, electron, services or anything above.
import { z } from 'zod';

export const SplitSchema = z.enum(['train', 'val', 'test']);

export const DatasetClassSchema = z.object({
  name: z.string(),
  count: z.number().int().nonnegative(),
  files: z.number().int().nonnegative(),
  splits: z.object({ train: z.number().int(), val: z.number().int(), test: z.number().int() }),
  /** A few relative paths of the class, for thumbnails. */
  examples: z.array(z.string()),
});

export const DatasetProblemSchema = z.object({
  path: z.string(),
  reason: z.string(),
  message: z.string(),
});

export const DatasetMessageSchema = z.object({
  code: z.string(),
  message: z.string(),
  classes: z.array(z.string()).optional(),
  paths: z.array(z.string()).optional(),
});

export const DuplicateGroupSchema = z.object({
  paths: z.array(z.string()),
  labels: z.array(z.string()),
  kind: z.enum(['within-class', 'across-classes']),
  splits: z.array(SplitSchema),
});

/** What the UI shows of a scan. Long lists are cut; the totals say how many there were. */
export const DatasetScanSummarySchema = z.object({
  root: z.string(),
  layout: z.enum(['folders', 'seeded']),
  classes: z.array(DatasetClassSchema),
  problems: z.array(DatasetProblemSchema),
  problemsTotal: z.number().int().nonnegative(),
  duplicates: z.array(DuplicateGroupSchema),
  duplicatesTotal: z.number().int().nonnegative(),
  warnings: z.array(DatasetMessageSchema),
  errors: z.array(DatasetMessageSchema),
  fingerprint: z.string(),
  /** Object boxes found for the pictures: how many have any, from which files, and unusable box files. */
  boxes: z
    .object({
      pictures: z.number().int().nonnegative(),
      sources: z.array(
        z.object({
          format: z.enum(['boxes-json', 'coco', 'voc', 'yolo']),
          file: z.string(),
          pictures: z.number().int(),
        }),
      ),
      problems: z.array(z.object({ file: z.string(), message: z.string() })),
      problemsTotal: z.number().int().nonnegative(),
    })
    .optional(),
  stats: z.object({
    filesSeen: z.number().int(),
    imagesUsable: z.number().int(),
    problems: z.number().int(),
    bytes: z.number(),
    seconds: z.number(),
  }),
  scannedAt: z.string(),
});
export type DatasetScanSummary = z.infer<typeof DatasetScanSummarySchema>;

/** A dataset of the workspace: a reference to the user's folder, never a copy. */
export const DatasetEntrySchema = z.object({
  id: z.string(),
  name: z.string(),
  path: z.string(),
  addedAt: z.string(),
  /** The last scan made in this session of the app, if any. */
  scan: DatasetScanSummarySchema.optional(),
});
export type DatasetEntry = z.infer<typeof DatasetEntrySchema>;

export const FolderPathSchema = z
  .string()
  .trim()
  .min(1, 'Type or paste the path of a folder.')
  .max(4096, 'That path is too long.');

export const ThumbnailSchema = z.object({
  path: z.string(),
  /** data:image/png;base64,... or null when the file could not be read. */
  dataUrl: z.string().nullable(),
  error: z.string().optional(),
});
export type Thumbnail = z.infer<typeof ThumbnailSchema>;

export const FolderListingSchema = z.object({
  path: z.string(),
  parent: z.string().nullable(),
  folders: z.array(z.string()),
  /** The folder's files of the requested kind (full paths), when the request asked for them. */
  files: z.array(z.string()).optional(),
});
export type FolderListing = z.infer<typeof FolderListingSchema>;
