// The evaluation and attention parts of the API contract: a run's evaluation report, the images behind a
// confusion-matrix cell or a gallery filter, and attention maps computed on demand. Pure zod schemas;
// must not import Node, electron, services or anything above main/api.
import { z } from 'zod';

export const ClassMetricsSchema = z.object({
  label: z.string(),
  precision: z.number(),
  recall: z.number(),
  f1: z.number(),
  support: z.number().int(),
});

/** The pointing game on one map: peaks inside a box of the picture's class (boxes/localisation.ts). */
export const LocalisationScoreSchema = z.object({
  hits: z.number().int(),
  total: z.number().int(),
  hitRate: z.number(),
  /** 95 % Wilson interval of the hit rate. */
  hitInterval: z.tuple([z.number(), z.number()]),
  /** How often a peak on a random map cell would hit. */
  chanceRate: z.number(),
  /** Mean share of the map's mass inside the boxes (energy pointing game). */
  energy: z.number(),
});
export type LocalisationScore = z.infer<typeof LocalisationScoreSchema>;

export const LocalisationReportSchema = z.object({
  images: z.number().int(),
  /** Level 1 (finest) first. */
  levels: z.array(LocalisationScoreSchema),
  combined: LocalisationScoreSchema.extend({ combination: z.string() }),
});
export type LocalisationReport = z.infer<typeof LocalisationReportSchema>;

/** An object box over the shown picture, in its pixels (x1, y1 exclusive), with its class when named. */
export const ShownBoxSchema = z.object({
  box: z.tuple([z.number(), z.number(), z.number(), z.number()]),
  label: z.string().optional(),
});
export type ShownBox = z.infer<typeof ShownBoxSchema>;

export const EvaluationReportSchema = z.object({
  runId: z.string(),
  split: z.string(),
  classes: z.array(z.string()),
  accuracy: z.number(),
  accuracyInterval: z.tuple([z.number(), z.number()]),
  total: z.number().int(),
  macroF1: z.number(),
  /** confusion[true][predicted] counts. */
  confusion: z.array(z.array(z.number().int())),
  perClass: z.array(ClassMetricsSchema),
  loss: z.number().nullable(),
  misclassified: z.number().int(),
  skipped: z.number().int(),
  seconds: z.number(),
  /** Where the evaluated pictures have object boxes: the pointing game. */
  localisation: LocalisationReportSchema.optional(),
});
export type EvaluationReport = z.infer<typeof EvaluationReportSchema>;

/** Which evaluated images to list. Every field narrows the list; none lists them all. */
export const ImageFilterSchema = z.strictObject({
  label: z.string().optional(),
  predicted: z.string().optional(),
  correct: z.boolean().optional(),
  minConfidence: z.number().min(0).max(1).optional(),
  maxConfidence: z.number().min(0).max(1).optional(),
});
export type ImageFilter = z.infer<typeof ImageFilterSchema>;

export const EvaluatedImageSchema = z.object({
  /** Position in the report's prediction list (stable for a report). */
  index: z.number().int(),
  path: z.string(),
  relativePath: z.string(),
  label: z.string(),
  predicted: z.string(),
  confidence: z.number(),
  correct: z.boolean(),
});
export type EvaluatedImage = z.infer<typeof EvaluatedImageSchema>;

export const ImagePageSchema = z.object({
  total: z.number().int(),
  offset: z.number().int(),
  items: z.array(EvaluatedImageSchema),
});
export type ImagePage = z.infer<typeof ImagePageSchema>;

export const AttentionMapSchema = z.object({
  /** 1 = conv 7 (finest, S/4), 2 = conv 10 (S/8), 3 = conv 13 (S/16). */
  level: z.number().int().min(1).max(3),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  /** Row-major attention weights as the model computed them (softmax: they sum to 1 per map). */
  values: z.array(z.number()),
});
export type AttentionMap = z.infer<typeof AttentionMapSchema>;

export const AttentionResultSchema = z.object({
  runId: z.string(),
  path: z.string(),
  /** The picture as the model sees it (shorter side fitted, centre crop), as a PNG data URL. */
  image: z.string(),
  imageSize: z.number().int(),
  inputSize: z.number().int(),
  maps: z.array(AttentionMapSchema),
  predicted: z.string(),
  confidence: z.number(),
  probabilities: z.array(z.object({ label: z.string(), p: z.number() })),
  /** Why there are no maps (attention switched off), if so. */
  note: z.string().optional(),
  /** The picture's object boxes, where its dataset has them, in pixels of `image` (imageSize square). */
  boxes: z.array(ShownBoxSchema).optional(),
});
export type AttentionResult = z.infer<typeof AttentionResultSchema>;
