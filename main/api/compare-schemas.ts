// The comparison of attention-VGG against the plain VGG16_bn head as the API carries it: the versioned
// report (format "attnvgg-compare/1", the one definition: main/services/compare writes its compare.json
// against it), the service's progress events, and the comparison job the Compare screen follows. Paths
// in the report are relative to the comparison folder. Pure zod schemas; must not import Node, electron,
// services or anything above main/api. main/services/jobs checks at compile time that the service's
// CompareEvent fits CompareEventSchema.
import { z } from 'zod';
import { LocalisationReportSchema } from './evaluation-schemas.js';
import {
  EpochPointSchema,
  PresetSchema,
  RunStatusSchema,
  StepPointSchema,
  TrainingEventSchema,
  TrainingSettingsSchema,
} from './training-schemas.js';

export const COMPARE_FORMAT = 'attnvgg-compare/1';
export const COMPARE_MODELS = ['attention', 'plain'] as const;
export const CompareModelSchema = z.enum(COMPARE_MODELS);
export type CompareModel = (typeof COMPARE_MODELS)[number];

const fraction = z.number().min(0).max(1);
const count = z.number().int().min(0);

export const CompareBudgetSchema = z.discriminatedUnion('kind', [
  /** Both models train for the same number of epochs. */
  z.object({ kind: z.literal('epochs'), epochs: z.number().int().min(1) }),
  /**
   * Both models get the same wall-clock seconds of training (from the run's start, validation passes
   * included), stopped at the first step boundary after the limit; `epochs` is the schedule's plan.
   */
  z.object({ kind: z.literal('time'), seconds: z.number().positive(), epochs: z.number().int().min(1) }),
]);
export type CompareBudget = z.infer<typeof CompareBudgetSchema>;

const classMetricsSchema = z.object({
  label: z.string(),
  precision: fraction,
  recall: fraction,
  f1: fraction,
  support: count,
});

export const CompareModelSummarySchema = z.object({
  /** The run folder, relative to the comparison folder. */
  runDir: z.string(),
  status: z.string(),
  attention: z.boolean(),
  spec: z.object({
    inputSize: z.number().int(),
    width: z.number(),
    numClasses: z.number().int(),
    attention: z.boolean(),
    compatibility: z.string(),
    normalisation: z.string(),
  }),
  parameters: z.object({ total: count, trainable: count }),
  evaluation: z.object({
    split: z.string(),
    images: count,
    correct: count,
    accuracy: fraction,
    /** 95 % Wilson interval, as evaluation.json gives it. */
    accuracyInterval: z.tuple([fraction, fraction]),
    macroF1: fraction,
    loss: z.number().nullable(),
    perClass: z.array(classMetricsSchema),
    confusion: z.array(z.array(count)),
    /** Which weights were evaluated and exported: the best validation epoch's or the last checkpoint's. */
    weights: z.enum(['best', 'last']),
  }),
  training: z.object({
    /** 'epochs' when every planned epoch ran, 'time-limit' when the budget stopped it, 'early-stopping'. */
    stoppedBy: z.enum(['epochs', 'time-limit', 'early-stopping']),
    epochsCompleted: count,
    steps: count,
    images: count,
    /** Seconds inside training steps (validation and evaluation excluded), as the run counts them. */
    trainSeconds: z.number().min(0),
    /** From the run's start to its end, validation passes included (what a time limit counts). */
    wallSeconds: z.number().min(0),
    imagesPerSecond: z.number().min(0),
    backend: z.string(),
  }),
  inference: z.object({
    /** The exported ONNX file, relative to the comparison folder; its sidecar sits beside it. */
    modelFile: z.string(),
    onnxBytes: count,
    /** Evaluation images timed in each round. */
    images: count,
    batch: z.number().int().min(1),
    threads: z.number().int().min(1),
    rounds: z.number().int().min(1),
    /** Median over rounds of images / seconds inside onnxruntime's run (decoding excluded). */
    imagesPerSecond: z.number().positive(),
    roundImagesPerSecond: z.array(z.number().positive()),
  }),
});
export type CompareModelSummary = z.infer<typeof CompareModelSummarySchema>;

const pointingScoreSchema = z.object({
  hits: count,
  total: count,
  hitRate: fraction,
  /** Where the peak was looked for: the map's own cells ('native') or the map drawn at picture size. */
  resolution: z.string(),
});

export const CompareReportSchema = z.object({
  format: z.literal(COMPARE_FORMAT),
  createdAt: z.string(),
  appVersion: z.string(),
  dataset: z.string(),
  classes: z.array(z.string()).min(2),
  settings: z.object({
    preset: z.string().nullable(),
    budget: CompareBudgetSchema,
    /** The resolved training settings both runs used (attention aside). */
    training: z.record(z.string(), z.unknown()),
  }),
  models: z.object({ attention: CompareModelSummarySchema, plain: CompareModelSummarySchema }),
  paired: z.object({
    split: z.string(),
    n: count,
    bothCorrect: count,
    attentionOnly: count,
    plainOnly: count,
    bothWrong: count,
    unpaired: count,
    mcnemar: z.object({
      b: count,
      c: count,
      method: z.enum(['none', 'exact-binomial', 'chi-square-continuity']),
      statistic: z.number().min(0),
      pValue: fraction,
    }),
  }),
  verdict: z.object({
    outcome: z.enum(['attention-better', 'plain-better', 'no-difference']),
    differencePoints: z.number(),
    alpha: fraction,
    text: z.string(),
  }),
  perClass: z.array(
    z.object({
      label: z.string(),
      support: count,
      attentionRecall: fraction,
      plainRecall: fraction,
      attentionPrecision: fraction,
      plainPrecision: fraction,
      attentionF1: fraction,
      plainF1: fraction,
      recallDifferencePoints: z.number(),
      f1DifferencePoints: z.number(),
    }),
  ),
  explanations: z.object({
    /** The display size of the pictures and overlays, in pixels. */
    size: z.number().int().min(1),
    images: z.array(
      z.object({
        relativePath: z.string(),
        label: z.string(),
        /** PNG files relative to the comparison folder. */
        picture: z.string(),
        attention: z.object({
          predicted: z.string(),
          confidence: fraction,
          overlay: z.string(),
        }),
        plain: z.object({
          predicted: z.string(),
          confidence: fraction,
          overlay: z.string(),
        }),
      }),
    ),
  }),
  /** On a dataset with object boxes (boxes/find-boxes.ts formats): the pointing game; else null. */
  pointing: z
    .object({
      split: z.string(),
      images: count,
      /** Hit rate of a peak on a uniformly random cell of the finest map: share of its cells in the box. */
      chanceRate: fraction,
      /** The attention model's own evaluation: every level and the combined map, with 95 % intervals,
       * random-peak rates and energy (absent in reports of older versions). */
      attention: LocalisationReportSchema.optional(),
      attentionFinest: pointingScoreSchema,
      attentionCombined: pointingScoreSchema,
      attentionConv13: pointingScoreSchema,
      gradCamConv13: pointingScoreSchema,
    })
    .nullable(),
  warnings: z.array(z.string()),
});
export type CompareReport = z.infer<typeof CompareReportSchema>;

export const COMPARE_PHASES = [
  'evaluating',
  'exporting',
  'timing-inference',
  'explaining',
  'pointing-game',
  'writing-report',
] as const;
export const ComparePhaseSchema = z.enum(COMPARE_PHASES);
export type ComparePhase = z.infer<typeof ComparePhaseSchema>;

/** The comparison service's progress events (main/services/compare, CompareEvent), as plain JSON. */
export const CompareEventSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('compare-started'),
    outDir: z.string(),
    dataset: z.string(),
    budget: CompareBudgetSchema,
    models: z.array(CompareModelSchema),
  }),
  z.object({
    type: z.literal('model-started'),
    model: CompareModelSchema,
    index: z.number().int(),
    runDir: z.string(),
  }),
  /** Every event of a model's own training run. */
  z.object({ type: z.literal('training'), model: CompareModelSchema, event: TrainingEventSchema }),
  z.object({
    type: z.literal('budget-reached'),
    model: CompareModelSchema,
    seconds: z.number(),
    epoch: z.number(),
    step: z.number(),
  }),
  z.object({
    type: z.literal('model-finished'),
    model: CompareModelSchema,
    status: RunStatusSchema,
    accuracy: z.number().nullable(),
  }),
  z.object({ type: z.literal('phase'), phase: ComparePhaseSchema, model: CompareModelSchema.optional() }),
  z.object({ type: z.literal('warning'), message: z.string() }),
  z.object({
    type: z.literal('finished'),
    status: z.enum(['completed', 'cancelled', 'failed']),
    message: z.string(),
    reportPath: z.string().optional(),
    htmlPath: z.string().optional(),
    verdict: CompareReportSchema.shape.verdict.optional(),
  }),
]);
export type CompareEvent = z.infer<typeof CompareEventSchema>;

export const CompareIdSchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'A comparison id is letters, digits, dots, dashes and underscores.');

/** What the Compare screen sends: the dataset, a preset and settings shared by both models, the budget. */
export const CompareStartRequestSchema = z.strictObject({
  datasetId: z.string().min(1).max(100),
  preset: PresetSchema.optional(),
  /** Both models' settings; attention is set per model, so it cannot be chosen here. */
  settings: TrainingSettingsSchema.omit({ attention: true }).strict().optional(),
  /** The same wall-clock training time for each model; without it both train for the epochs. */
  timeLimitMinutes: z
    .number()
    .positive('The time limit is a positive number of minutes.')
    .max(7 * 24 * 60, 'The time limit is at most a week.')
    .optional(),
  /** Pictures explained side by side in the report (default 8). */
  explainImages: z.number().int().min(1).max(32).optional(),
});
export type CompareStartRequest = z.infer<typeof CompareStartRequestSchema>;

export const COMPARE_STATUSES = ['running', 'completed', 'cancelled', 'failed'] as const;
export const CompareStatusSchema = z.enum(COMPARE_STATUSES);
export type CompareJobStatus = z.infer<typeof CompareStatusSchema>;

/** Where one model's training stands. */
export const CompareModelProgressSchema = z.object({
  state: z.enum(['waiting', 'training', 'finished']),
  epoch: z.number().int(),
  epochs: z.number().int(),
  step: z.number().int(),
  stepsPerEpoch: z.number().int(),
  imagesPerSecond: z.number().optional(),
  /** Seconds since the model's run started (what a time limit counts). */
  elapsedSeconds: z.number().optional(),
  /** The run's own final evaluation, once it is there. */
  accuracy: z.number().nullable(),
  status: RunStatusSchema.optional(),
});
export type CompareModelProgress = z.infer<typeof CompareModelProgressSchema>;

/** A comparison as the UI follows it; kept in the workspace (comparisons/<id>/job.json) after it ends. */
export const CompareJobSchema = z.object({
  id: z.string(),
  status: CompareStatusSchema,
  datasetId: z.string(),
  datasetName: z.string(),
  /** The dataset's folder. */
  dataset: z.string(),
  preset: PresetSchema.nullable(),
  settings: TrainingSettingsSchema,
  budget: CompareBudgetSchema,
  /** The comparison folder (run folders, models, compare.json, compare.html). */
  outDir: z.string(),
  startedAt: z.string(),
  updatedAt: z.string(),
  /** The model training now, or null before the first and after the second. */
  model: CompareModelSchema.nullable(),
  /** The step after training, while it runs. */
  phase: ComparePhaseSchema.nullable(),
  models: z.object({ attention: CompareModelProgressSchema, plain: CompareModelProgressSchema }),
  /**
   * Overall progress 0..1: each model's training 47.5 % (by steps, or by time under a limit), the phases
   * after them 5 %.
   */
  fraction: z.number().min(0).max(1),
  /** The verdict in plain words once it is written; why it failed or how it ended otherwise. */
  message: z.string().optional(),
  /** compare.html and compare.json, once written. */
  htmlPath: z.string().nullable(),
  reportPath: z.string().nullable(),
  warnings: z.array(z.string()),
});
export type CompareJob = z.infer<typeof CompareJobSchema>;

/** One comparison with its report (null until it is written, or when the comparison did not finish). */
export const CompareDetailsSchema = z.object({
  job: CompareJobSchema,
  report: CompareReportSchema.nullable(),
  /** Each model's training history (step and epoch metrics), for the charts after a reload. */
  history: z.object({
    attention: z.object({ steps: z.array(StepPointSchema), epochs: z.array(EpochPointSchema) }),
    plain: z.object({ steps: z.array(StepPointSchema), epochs: z.array(EpochPointSchema) }),
  }),
});
export type CompareDetails = z.infer<typeof CompareDetailsSchema>;

/** The self-contained HTML report, for a browser to open as a page of its own. */
export const CompareHtmlSchema = z.object({
  path: z.string(),
  html: z.string(),
});
