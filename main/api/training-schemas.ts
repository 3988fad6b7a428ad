// The training part of the API contract: settings a user can pick, the runs of the workspace, a run's
// metrics history and the live progress events. Pure zod schemas; must not import Node, electron,
// services or anything above main/api. main/services/jobs checks at compile time that the services'
// TrainingEvent and TrainingConfig fit these shapes.
import { z } from 'zod';

export const PRESETS = ['quick', 'balanced', 'full'] as const;
export const PresetSchema = z.enum(PRESETS);
export type PresetName = z.infer<typeof PresetSchema>;

export const OPTIMIZERS = ['sgd', 'adam', 'adamw'] as const;
export const SCHEDULES = ['onecycle', 'cosine', 'step', 'constant'] as const;

export const AugmentSchema = z.union([
  z.literal(false),
  z.strictObject({
    flip: z.boolean().optional(),
    crop: z.boolean().optional(),
    translate: z.number().min(0).max(0.5).optional(),
    colourJitter: z.boolean().optional(),
  }),
]);

export const FEATURE_CACHE_PRECISIONS = ['float16', 'float32'] as const;
export const FeatureCachePrecisionSchema = z.enum(FEATURE_CACHE_PRECISIONS);
export type FeatureCachePrecision = z.infer<typeof FeatureCachePrecisionSchema>;

/** The settings the Train screen offers; anything left out takes the preset's value or the default. */
export const TrainingSettingsSchema = z
  .object({
    inputSize: z.number().int().min(32).max(512).multipleOf(32, 'The input size must be a multiple of 32.'),
    width: z.number().positive().max(4),
    attention: z.boolean(),
    compatibility: z.enum(['pc', 'dp', 'additive']),
    normalisation: z.enum(['softmax', 'sigmoid']),
    epochs: z.number().int().min(1).max(100_000),
    batchSize: z.number().int().min(1).max(4096),
    optimizer: z.enum(OPTIMIZERS),
    lr: z.number().positive(),
    momentum: z.number().min(0).max(1),
    weightDecay: z.number().min(0),
    schedule: z.enum(SCHEDULES),
    labelSmoothing: z.number().min(0).lt(1),
    augment: AugmentSchema,
    earlyStoppingPatience: z.number().int().min(0),
    freezeBlocks: z.number().int().min(0).max(5),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1),
    valFraction: z.number().min(0).lt(1),
    checkpointEverySteps: z.number().int().min(0),
    keepMisclassifiedMaps: z.number().int().min(0),
    /** Stored views per training image when frozen pretrained blocks are cached (docs/transfer.md). */
    cachedViews: z.number().int().min(1).max(64),
    /** How those cached features are stored: float32 is exact at twice the memory and disk. */
    featureCachePrecision: FeatureCachePrecisionSchema,
  })
  .partial();
export type TrainingSettings = z.infer<typeof TrainingSettingsSchema>;

/** What a preset resolves to, for the form's descriptions and "preset (…)" placeholders. */
export const PresetValuesSchema = z.object({
  preset: PresetSchema,
  inputSize: z.number().int(),
  width: z.number(),
  epochs: z.number().int(),
  batchSize: z.number().int(),
  optimizer: z.enum(OPTIMIZERS),
  lr: z.number(),
  schedule: z.enum(SCHEDULES),
  freezeBlocks: z.number().int(),
  earlyStoppingPatience: z.number().int(),
  normalisation: z.enum(['softmax', 'sigmoid']),
  seed: z.number().int(),
});
export type PresetValues = z.infer<typeof PresetValuesSchema>;

export const RunStatusSchema = z.enum([
  'created',
  'running',
  'paused',
  'cancelled',
  'completed',
  'stopped-early',
  'failed',
]);
export type RunStatus = z.infer<typeof RunStatusSchema>;

export const TrainingEventSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('started'),
    runDir: z.string(),
    backend: z.string(),
    engine: z.string().optional(),
    device: z.string().optional(),
    classes: z.array(z.string()),
    trainImages: z.number(),
    valImages: z.number(),
    epochs: z.number(),
    stepsPerEpoch: z.number(),
    resumedAt: z.object({ epoch: z.number(), stepInEpoch: z.number() }).optional(),
  }),
  z.object({
    type: z.literal('step'),
    epoch: z.number(),
    step: z.number(),
    stepsPerEpoch: z.number(),
    globalStep: z.number(),
    loss: z.number(),
    accuracy: z.number(),
    lr: z.number(),
    imagesPerSecond: z.number(),
    etaSeconds: z.number(),
  }),
  z.object({
    type: z.literal('epoch'),
    epoch: z.number(),
    epochs: z.number(),
    trainLoss: z.number(),
    trainAccuracy: z.number(),
    valLoss: z.number(),
    valAccuracy: z.number(),
    trainSeconds: z.number(),
    improved: z.boolean(),
  }),
  z.object({ type: z.literal('checkpoint'), path: z.string(), epoch: z.number(), stepInEpoch: z.number() }),
  z.object({
    type: z.literal('caching'),
    split: z.enum(['train', 'val']),
    done: z.number(),
    total: z.number(),
    /** Absent in metrics logs written before the setting existed (those cached in float16). */
    precision: FeatureCachePrecisionSchema.optional(),
  }),
  z.object({ type: z.literal('skipped-file'), path: z.string(), reason: z.string(), message: z.string() }),
  z.object({ type: z.literal('warning'), message: z.string() }),
  z.object({
    type: z.literal('evaluated'),
    split: z.string(),
    accuracy: z.number(),
    images: z.number(),
    path: z.string(),
  }),
  z.object({ type: z.literal('finished'), status: RunStatusSchema, runDir: z.string(), message: z.string() }),
]);
export type TrainingEvent = z.infer<typeof TrainingEventSchema>;

/** Where a run stands, as the list of runs shows it. */
export const RunProgressSchema = z.object({
  epoch: z.number().int(),
  epochs: z.number().int(),
  step: z.number().int(),
  stepsPerEpoch: z.number().int(),
  globalStep: z.number().int(),
  imagesPerSecond: z.number().optional(),
  etaSeconds: z.number().optional(),
});

export const RunSummarySchema = z.object({
  id: z.string(),
  status: RunStatusSchema,
  /** True while a worker trains it (the status may still say 'created' for a moment). */
  active: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string(),
  dataset: z.string(),
  datasetName: z.string(),
  classes: z.array(z.string()),
  preset: PresetSchema.optional(),
  settings: z.object({
    inputSize: z.number(),
    width: z.number(),
    attention: z.boolean(),
    epochs: z.number(),
    batchSize: z.number(),
    optimizer: z.string(),
    lr: z.number(),
    /** The attention compatibility (absent in records from before it was recorded: pc). */
    compatibility: z.string().optional(),
    /** Only for runs that cache frozen pretrained blocks' features. */
    featureCachePrecision: FeatureCachePrecisionSchema.optional(),
  }),
  backend: z.string(),
  /** The onnxruntime device that last trained the run (absent: cpu), and its adapter when reported. */
  device: z.string().optional(),
  adapter: z.string().optional(),
  /** The pretrained backbone file's name when the run started from one. */
  backbone: z.string().optional(),
  message: z.string().optional(),
  bestValAccuracy: z.number().optional(),
  testAccuracy: z.number().optional(),
  progress: RunProgressSchema.optional(),
});
export type RunSummary = z.infer<typeof RunSummarySchema>;

export const StepPointSchema = z.object({
  globalStep: z.number(),
  epoch: z.number(),
  loss: z.number(),
  accuracy: z.number(),
  imagesPerSecond: z.number(),
});
export type StepPoint = z.infer<typeof StepPointSchema>;

export const EpochPointSchema = z.object({
  epoch: z.number(),
  globalStep: z.number(),
  trainLoss: z.number(),
  trainAccuracy: z.number(),
  valLoss: z.number(),
  valAccuracy: z.number(),
});
export type EpochPoint = z.infer<typeof EpochPointSchema>;

export const RunDetailsSchema = z.object({
  summary: RunSummarySchema,
  /** Every setting of the run (the resolved TrainingConfig). */
  config: z.record(z.string(), z.unknown()),
  /** Step metrics, thinned to at most a few thousand points for long runs. */
  steps: z.array(StepPointSchema),
  epochs: z.array(EpochPointSchema),
  warnings: z.array(z.string()),
  skippedFiles: z.number().int(),
  folder: z.string(),
});
export type RunDetails = z.infer<typeof RunDetailsSchema>;

export const RunIdSchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'A run id is letters, digits, dots, dashes and underscores.');
