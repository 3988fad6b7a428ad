// The pretrained-backbone part of the API contract: the ImageNet VGG16_bn files the workspace knows (a
// file the user picked, used where it is, or one downloaded into the workspace cache), their check, and
// the progress of a download. Pure zod schemas; must not import Node, electron, services or anything
// above main/api.
import { z } from 'zod';

export const BackboneIdSchema = z
  .string()
  .regex(/^[0-9a-f]{16}$/, 'A backbone id is 16 hexadecimal digits (the start of its SHA-256).');

/** A usable backbone of the workspace, as the Models and Train screens list it. */
export const BackboneEntrySchema = z.object({
  id: BackboneIdSchema,
  /** The file's name (or the URL's last part for a download). */
  name: z.string(),
  path: z.string(),
  sha256: z.string(),
  bytes: z.number().int(),
  /** 'file': picked by the user and used where it is; 'download': fetched into the workspace cache. */
  source: z.enum(['file', 'download']),
  url: z.string().optional(),
  /** The catalogue entry it was downloaded as (backbones.catalogue), if any. */
  catalogueId: z.string().optional(),
  addedAt: z.string(),
  /** What the check found, in a line: "width 1.0, BatchNorm kept, pytorch 2.1, opset 13". */
  summary: z.string(),
  /** Things worth knowing (BatchNorm folded ...). */
  notes: z.array(z.string()),
  /** False when the file has gone since it was added (moved or deleted): it cannot be trained from. */
  present: z.boolean(),
});
export type BackboneEntry = z.infer<typeof BackboneEntrySchema>;

/** File names a backbone may have (the form itself is told by content): ONNX, PyTorch, safetensors, archives. */
export const BACKBONE_FILE_SUFFIXES = ['.onnx', '.pth', '.pt', '.safetensors', '.tar.gz', '.tgz'] as const;

/** One entry of the built-in catalogue of ImageNet VGG16_bn weights (main/services/backbone/catalogue.ts). */
export const CatalogueItemSchema = z.object({
  id: z.string(),
  title: z.string(),
  publisher: z.string(),
  url: z.string(),
  fileName: z.string(),
  /** Exact size when published. */
  bytes: z.number().int().optional(),
  /** The size as published ("528 MB"). */
  sizeLabel: z.string(),
  checksum: z.object({ kind: z.enum(['sha256', 'sha256-prefix']), value: z.string() }),
  licence: z.string(),
  form: z.string(),
  top1: z.number(),
  top1Source: z.string(),
  preprocessing: z.object({
    channels: z.literal('RGB'),
    mean: z.tuple([z.number(), z.number(), z.number()]),
    std: z.tuple([z.number(), z.number(), z.number()]),
    inputSize: z.number().int(),
    source: z.string(),
  }),
  note: z.string().optional(),
  /** The workspace's backbone id once downloaded (its file still there); absent = not downloaded yet. */
  backboneId: BackboneIdSchema.optional(),
});
export type CatalogueItem = z.infer<typeof CatalogueItemSchema>;

export const BackboneListSchema = z.object({
  /** The built-in catalogue, each entry saying whether it is downloaded. */
  catalogue: z.array(CatalogueItemSchema),
  /** The workspace's download cache. */
  folder: z.string(),
  backbones: z.array(BackboneEntrySchema),
  /** The download source the app was configured with (ATTNVGG_BACKBONE_URL), to prefill the form. */
  defaultSource: z.object({ url: z.string(), sha256: z.string().optional() }).optional(),
  /** True while a download runs (one at a time). */
  downloading: z.boolean(),
});
export type BackboneList = z.infer<typeof BackboneListSchema>;

const FilePath = z.string().trim().min(1).max(4096);
const Sha256 = z
  .string()
  .trim()
  .regex(/^[0-9a-fA-F]{64}$/, 'A SHA-256 checksum is 64 hexadecimal digits.');

export const BackboneAddRequestSchema = z.strictObject({ path: FilePath });
export const BackboneCatalogueRequestSchema = z.strictObject({ id: z.string().trim().min(1).max(100) });
export const BackboneDownloadRequestSchema = z.strictObject({
  url: z.string().trim().min(1).max(4096),
  sha256: Sha256.optional(),
});

/** A backbone download's progress, pushed as 'backbone-download' events. */
export const BackboneDownloadEventSchema = z.object({
  stage: z.enum(['download', 'verify', 'check', 'finished', 'failed', 'cancelled']),
  url: z.string(),
  received: z.number().int(),
  total: z.number().int().optional(),
  /** Bytes that were already on disk from an earlier, interrupted download. */
  resumedFrom: z.number().int(),
  /** Transfer speed of this download so far, bytes per second. */
  bytesPerSecond: z.number().optional(),
  /** The catalogue entry being downloaded, if it is one. */
  catalogueId: z.string().optional(),
  message: z.string(),
});
export type BackboneDownloadEvent = z.infer<typeof BackboneDownloadEventSchema>;
