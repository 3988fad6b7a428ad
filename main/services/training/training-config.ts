// What a training run is asked to do: every setting with its default, the presets a non-expert picks
// from, and validation with messages that list the valid choices. Must not import electron or anything
// from main/electron, main/backend, main/server, main/cli or renderer.

import { COMPATIBILITIES, type Compatibility, type Normalisation } from '../../../models/core/spec.js';
import { OPTIMIZER_NAMES, type OptimizerName } from '../../../models/train/optimizer.js';
import { SCHEDULE_NAMES, type ScheduleName } from '../../../models/train/schedule.js';
import type { AugmentOptions } from '../datasets/augment-image.js';
import type { Rgb } from '../images/normalise.js';
import type { FeatureCachePrecision } from '../transfer/feature-cache.js';

export type PresetName = 'quick' | 'balanced' | 'full';
export const PRESET_NAMES: readonly PresetName[] = ['quick', 'balanced', 'full'];

/** How a run's feature caches store values (main/services/transfer/feature-cache.ts). */
export const FEATURE_CACHE_PRECISIONS: readonly FeatureCachePrecision[] = ['float16', 'float32'];

/** The precision of a run's feature caches: runs recorded before the setting existed cached in half precision. */
export function featureCachePrecisionOf(
  config: Pick<TrainingConfig, 'featureCachePrecision'>,
): FeatureCachePrecision {
  return config.featureCachePrecision ?? 'float16';
}

export interface TrainingConfig {
  /** The dataset folder (one sub-folder per class, optionally inside train/ val/ test/). */
  dataset: string;
  inputSize: number;
  width: number;
  attention: boolean;
  compatibility: Compatibility;
  normalisation: Normalisation;
  epochs: number;
  batchSize: number;
  optimizer: OptimizerName;
  /** Peak learning rate (one-cycle) or initial one. */
  lr: number;
  momentum: number;
  weightDecay: number;
  schedule: ScheduleName;
  labelSmoothing: number;
  augment: AugmentOptions | false;
  /** Stop after this many epochs without a better validation accuracy; 0 = never. */
  earlyStoppingPatience: number;
  /** Conv blocks 1..k are frozen (0 = train everything, 5 = the whole backbone). */
  freezeBlocks: number;
  seed: number;
  /** Fraction of each class held out for validation when the folder has no val/ split. */
  valFraction: number;
  /** Pixel statistics of pixel/255 used to normalise inputs (they travel with the model). */
  mean: Rgb;
  std: Rgb;
  /** Also write a checkpoint every N steps inside an epoch (0 = only at epoch ends). */
  checkpointEverySteps: number;
  /** Attention maps of this many misclassified validation/test images are kept in the evaluation. */
  keepMisclassifiedMaps: number;
  /**
   * A pretrained VGG16_bn backbone (an ONNX file, main/services/backbone/load-backbone.ts) whose
   * `features.*` replace the initial backbone of a new run; null or absent = train from scratch.
   */
  backbone?: string | null;
  /** Stored views per training image when frozen backbone blocks are cached (1..5 or 1..4; docs/transfer.md). */
  cachedViews: number;
  /** In-memory budget of the training and validation feature caches together, in bytes (default: half the free memory, 1-32 GiB). */
  featureCacheMemoryBytes?: number;
  /**
   * How the feature caches store values (docs/transfer.md): float16 (default) or float32, exact but twice
   * the memory and disk. Runs recorded before this setting existed read as float16.
   */
  featureCachePrecision: FeatureCachePrecision;
}

/** Defaults: the "balanced" preset at the size a CPU can train from scratch. */
export const DEFAULT_CONFIG: Omit<TrainingConfig, 'dataset'> = {
  inputSize: 64,
  width: 0.25,
  attention: true,
  compatibility: 'pc',
  normalisation: 'softmax',
  epochs: 10,
  batchSize: 32,
  optimizer: 'sgd',
  lr: 0.05,
  momentum: 0.9,
  weightDecay: 5e-4,
  schedule: 'onecycle',
  labelSmoothing: 0,
  augment: { flip: true, translate: 0.1 },
  earlyStoppingPatience: 0,
  freezeBlocks: 0,
  seed: 0,
  valFraction: 0.2,
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
  checkpointEverySteps: 0,
  keepMisclassifiedMaps: 64,
  cachedViews: 1,
  featureCachePrecision: 'float16',
};

/**
 * Presets without a pretrained backbone: they differ in budget: quick is a short run, full the longest
 * with early stopping.
 */
export const PRESETS: Record<PresetName, Partial<TrainingConfig>> = {
  quick: { epochs: 5, earlyStoppingPatience: 0 },
  balanced: { epochs: 15, earlyStoppingPatience: 5 },
  full: { epochs: 40, earlyStoppingPatience: 8, augment: { flip: true, crop: true, colourJitter: true } },
};

/**
 * Presets with a pretrained backbone (docs/transfer.md): quick trains only the attention heads and the
 * classifier on cached features of the frozen backbone (the transfer recipe: Adam, lr 1e-3, batch 32,
 * 5 epochs); balanced also fine-tunes block 5 with a smaller rate; full fine-tunes everything, with a
 * rate well below the from-scratch one so the pretrained features are not washed out.
 */
export const BACKBONE_PRESETS: Record<PresetName, Partial<TrainingConfig>> = {
  quick: {
    freezeBlocks: 5,
    optimizer: 'adam',
    lr: 1e-3,
    batchSize: 32,
    epochs: 5,
    schedule: 'constant',
    weightDecay: 0,
    earlyStoppingPatience: 0,
  },
  balanced: {
    freezeBlocks: 4,
    optimizer: 'adam',
    lr: 1e-4,
    batchSize: 32,
    epochs: 10,
    schedule: 'cosine',
    weightDecay: 0,
    earlyStoppingPatience: 4,
  },
  full: {
    freezeBlocks: 0,
    optimizer: 'sgd',
    momentum: 0.9,
    lr: 0.01,
    batchSize: 32,
    epochs: 20,
    schedule: 'onecycle',
    weightDecay: 5e-4,
    earlyStoppingPatience: 5,
    augment: { flip: true, crop: true, colourJitter: true },
  },
};

/** The input size a run from a pretrained backbone defaults to: ImageNet's 224 px. */
export const BACKBONE_INPUT_SIZE = 224;

/** The preset a run with a backbone and no preset takes: the fast frozen-backbone one. */
export const DEFAULT_BACKBONE_PRESET: PresetName = 'quick';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function oneOf<T extends string>(what: string, value: T, allowed: readonly T[], problems: string[]): void {
  if (!allowed.includes(value))
    problems.push(`Unsupported ${what} "${value}". Should be one of: ${allowed.join(', ')}`);
}

export function resolveConfig(
  partial: Partial<TrainingConfig> & { dataset: string },
  preset?: PresetName,
): TrainingConfig {
  if (preset !== undefined && !PRESET_NAMES.includes(preset))
    throw new ConfigError(`Unsupported preset "${preset}". Should be one of: ${PRESET_NAMES.join(', ')}`);
  const withBackbone = typeof partial.backbone === 'string' && partial.backbone !== '';
  const presetValues = withBackbone
    ? // ImageNet weights are width 1.0: the width defaults to it (an explicit other width is refused).
      // They were learnt at 224 px, the size their features are best at, so that is the default size.
      { width: 1, inputSize: BACKBONE_INPUT_SIZE, ...BACKBONE_PRESETS[preset ?? DEFAULT_BACKBONE_PRESET] }
    : preset
      ? PRESETS[preset]
      : {};
  const config: TrainingConfig = {
    ...DEFAULT_CONFIG,
    ...presetValues,
    ...stripUndefined(partial),
    dataset: partial.dataset,
  };
  const problems: string[] = [];
  const int = (name: keyof TrainingConfig, min: number, max = Number.MAX_SAFE_INTEGER): void => {
    const v = config[name] as number;
    if (!Number.isInteger(v) || v < min || v > max)
      problems.push(`${name} must be an integer in [${min}, ${max}], got ${v}`);
  };
  if (!config.dataset) problems.push('a dataset folder is required');
  if (!Number.isInteger(config.inputSize) || config.inputSize < 32 || config.inputSize % 32 !== 0)
    problems.push(`input size must be a multiple of 32 and at least 32, got ${config.inputSize}`);
  if (!(config.width > 0 && config.width <= 4)) problems.push(`width must be in (0, 4], got ${config.width}`);
  int('epochs', 1, 100_000);
  int('batchSize', 1, 4096);
  int('earlyStoppingPatience', 0);
  int('freezeBlocks', 0, 5);
  int('seed', 0, 2 ** 31 - 1);
  int('checkpointEverySteps', 0);
  int('keepMisclassifiedMaps', 0);
  int('cachedViews', 1, 64);
  if (
    config.featureCacheMemoryBytes !== undefined &&
    !(Number.isInteger(config.featureCacheMemoryBytes) && config.featureCacheMemoryBytes >= 0)
  )
    problems.push(
      `featureCacheMemoryBytes must be a non-negative integer, got ${config.featureCacheMemoryBytes}`,
    );
  if (withBackbone && config.width !== 1)
    problems.push(
      `a pretrained backbone holds ImageNet VGG16_bn weights at width 1.0, but the width is ${config.width}: set the width to 1.0 (or train without --backbone)`,
    );
  if (!(config.lr > 0)) problems.push(`learning rate must be positive, got ${config.lr}`);
  if (!(config.labelSmoothing >= 0 && config.labelSmoothing < 1))
    problems.push(`label smoothing must be in [0, 1), got ${config.labelSmoothing}`);
  if (!(config.valFraction >= 0 && config.valFraction < 1))
    problems.push(`val fraction must be in [0, 1), got ${config.valFraction}`);
  if (!(config.weightDecay >= 0)) problems.push(`weight decay must be >= 0, got ${config.weightDecay}`);
  oneOf('optimizer', config.optimizer, OPTIMIZER_NAMES, problems);
  oneOf('schedule', config.schedule, SCHEDULE_NAMES, problems);
  oneOf('compatibility', config.compatibility, COMPATIBILITIES, problems);
  oneOf('normalisation', config.normalisation, ['softmax', 'sigmoid'], problems);
  oneOf('feature cache precision', config.featureCachePrecision, FEATURE_CACHE_PRECISIONS, problems);
  if (problems.length > 0) throw new ConfigError(`Invalid training settings: ${problems.join('; ')}.`);
  return config;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
