// `attnvgg train <folder>`: trains a model on a folder of class sub-folders into a run folder.
// Must not import electron or anything from main/electron, main/server or renderer.

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { COMPATIBILITIES } from '../../../models/core/spec.js';
import { BACKEND_NAMES, type BackendName } from '../../../models/tfjs/backend.js';
import { OPTIMIZER_NAMES } from '../../../models/train/optimizer.js';
import { SCHEDULE_NAMES } from '../../../models/train/schedule.js';
import { catalogueEntry } from '../../services/backbone/catalogue.js';
import {
  FEATURE_CACHE_PRECISIONS,
  PRESET_NAMES,
  type TrainingConfig,
} from '../../services/training/training-config.js';
import { ENGINE_NAMES, type EngineName } from '../../services/training/training-engine.js';
import { startTraining, TrainingControl } from '../../services/training/training-run.js';
import { defaultWorkspaceDir } from '../../backend/default-workspace.js';
import { fetchCatalogueBackbone, isCatalogueId } from '../backbone-download.js';
import { EXIT, UserError, type Command, type CommandContext } from '../command.js';
import {
  choiceOption,
  numberOption,
  parseOptions,
  stringOption,
  type OptionSpec,
  type ParsedOptions,
} from '../parse-options.js';
import { deviceCacheDir, deviceOption, DEVICE_ROW } from '../device-option.js';
import { optionHelp, optionSpec, withoutOptions, type OptionRow } from '../option-table.js';
import { outputMode, ProgressWriter } from '../progress-output.js';
import { createTrainingReporter, withInterruptToStop } from '../training-reporter.js';

/** The training options, shared by train, compare and demo: the parser's spec and the help come from here. */
export const TRAINING_OPTION_ROWS: readonly OptionRow[] = [
  {
    name: 'out',
    short: 'o',
    type: 'string',
    value: 'DIR',
    help: 'run folder to create (default: runs/<date-time> under the current folder)',
  },
  {
    name: 'preset',
    type: 'string',
    value: 'NAME',
    help: `${PRESET_NAMES.join(' | ')} (default: balanced settings)`,
  },
  { name: 'epochs', type: 'string', value: 'N', help: 'epochs to train' },
  {
    name: 'size',
    type: 'string',
    value: 'S',
    help: 'input size in pixels, a multiple of 32 (default 64; 224 with --backbone)',
  },
  {
    name: 'width',
    type: 'string',
    value: 'W',
    help: 'channel multiplier, 1.0 = the real VGG16_bn (default 0.25)',
  },
  { name: 'batch', type: 'string', value: 'B', help: 'batch size (default 32)' },
  {
    name: 'engine',
    type: 'string',
    value: 'NAME',
    help: [
      `${ENGINE_NAMES.join(' | ')} (default: tfjs with native TensorFlow, else`,
      'onnxruntime; env ATTNVGG_ENGINE)',
    ],
  },
  {
    name: 'backend',
    type: 'string',
    value: 'NAME',
    help: `${BACKEND_NAMES.join(' | ')}: train on this TensorFlow.js backend (env ATTNVGG_BACKEND)`,
  },
  DEVICE_ROW,
  {
    name: 'seed',
    type: 'string',
    value: 'N',
    help: 'seed of the split, initial weights, order and augmentation (default 0)',
  },
  { name: 'lr', type: 'string', value: 'X', help: 'peak learning rate (default 0.05)' },
  {
    name: 'optimizer',
    type: 'string',
    value: 'NAME',
    help: `${OPTIMIZER_NAMES.join(' | ')} (default sgd, momentum 0.9)`,
  },
  {
    name: 'schedule',
    type: 'string',
    value: 'NAME',
    help: `${SCHEDULE_NAMES.join(' | ')} (default onecycle)`,
  },
  { name: 'weight-decay', type: 'string', value: 'X', help: 'L2 weight decay (default 5e-4)' },
  { name: 'label-smoothing', type: 'string', value: 'X', help: '(default 0)' },
  { name: 'freeze-blocks', type: 'string', value: 'K', help: 'freeze conv blocks 1..K (default 0)' },
  {
    name: 'early-stopping',
    type: 'string',
    value: 'N',
    help: 'stop after N epochs without a better validation accuracy (0 = off)',
  },
  {
    name: 'val-fraction',
    type: 'string',
    value: 'X',
    help: 'share of each class held out when the folder has no val/ (default 0.2)',
  },
  { name: 'no-attention', type: 'boolean', help: 'the plain VGG16_bn head (ablation baseline)' },
  {
    name: 'compatibility',
    type: 'string',
    value: 'NAME',
    help: 'attention compatibility: pc | dp | additive (default pc)',
  },
  { name: 'normalisation', type: 'string', value: 'NAME', help: 'softmax | sigmoid (default softmax)' },
  { name: 'no-augment', type: 'boolean', help: 'no flips or shifts' },
  {
    name: 'checkpoint-every',
    type: 'string',
    value: 'N',
    help: 'also checkpoint every N steps inside an epoch',
  },
  { name: 'json', type: 'boolean', help: 'one JSON event per line on stdout' },
];

export const TRAINING_OPTIONS: OptionSpec = optionSpec(TRAINING_OPTION_ROWS);

/** The help of the training options, less the rows named in `except` (options a command does not offer). */
export function trainingOptionsHelp(...except: string[]): string {
  return `Training options:\n${optionHelp(withoutOptions(TRAINING_OPTION_ROWS, ...except))}`;
}

export const TRAINING_OPTIONS_HELP = trainingOptionsHelp();

/** Options of `attnvgg train` only (not of compare or demo): the pretrained backbone and its feature cache. */
export const BACKBONE_OPTION_ROWS: readonly OptionRow[] = [
  {
    name: 'backbone',
    type: 'string',
    value: 'ID|FILE',
    help: [
      'start from a pretrained VGG16_bn: a catalogue id (`attnvgg backbone list`;',
      'e.g. torchvision-vgg16bn, downloaded into the workspace first if needed, its',
      'preprocessing used) or a file (.pth, .safetensors, .tar.gz, .onnx;',
      '`attnvgg backbone check` tests one).',
      'The width is 1.0 and the presets become: quick (the default) = blocks 1-5',
      'frozen, only the attention heads and classifier train, on backbone features',
      'computed once (Adam, lr 1e-3, batch 32, 5 epochs); balanced = blocks 1-4',
      'frozen, their features computed once, block 5 fine-tuned; full = nothing',
      'frozen; the input size defaults to 224',
    ],
  },
  {
    name: 'cached-views',
    type: 'string',
    value: 'N',
    help: [
      'with blocks 1-5 or 1-4 frozen (quick, balanced): views stored per training',
      'image, view 0 plain, the others augmented (default 1; memory and caching time',
      'grow with N)',
    ],
  },
  {
    name: 'cache-precision',
    type: 'string',
    value: 'NAME',
    help: [
      `${FEATURE_CACHE_PRECISIONS.join(' | ')}: how those cached features are stored (default float16;`,
      'float32 keeps them exact at twice the memory and disk; half precision can',
      "shift block 5's gradients with balanced)",
    ],
  },
  {
    name: 'workspace',
    type: 'string',
    value: 'DIR',
    help: "where catalogue downloads are kept (default: the app's workspace)",
  },
];

export const BACKBONE_OPTIONS: OptionSpec = optionSpec(BACKBONE_OPTION_ROWS);

export const BACKBONE_OPTIONS_HELP = `Pretrained backbone (docs/transfer.md):\n${optionHelp(BACKBONE_OPTION_ROWS)}`;

export function trainingSettings(values: ParsedOptions['values']): Partial<TrainingConfig> {
  return {
    epochs: numberOption(values, 'epochs', { integer: true, min: 1 }),
    inputSize: numberOption(values, 'size', { integer: true, min: 32 }),
    width: numberOption(values, 'width', { min: 0 }),
    batchSize: numberOption(values, 'batch', { integer: true, min: 1 }),
    seed: numberOption(values, 'seed', { integer: true, min: 0 }),
    lr: numberOption(values, 'lr', { min: 0 }),
    optimizer: choiceOption(values, 'optimizer', OPTIMIZER_NAMES),
    schedule: choiceOption(values, 'schedule', SCHEDULE_NAMES),
    weightDecay: numberOption(values, 'weight-decay', { min: 0 }),
    labelSmoothing: numberOption(values, 'label-smoothing', { min: 0 }),
    freezeBlocks: numberOption(values, 'freeze-blocks', { integer: true, min: 0 }),
    earlyStoppingPatience: numberOption(values, 'early-stopping', { integer: true, min: 0 }),
    valFraction: numberOption(values, 'val-fraction', { min: 0 }),
    attention: values['no-attention'] ? false : undefined,
    compatibility: choiceOption(values, 'compatibility', COMPATIBILITIES),
    normalisation: choiceOption(values, 'normalisation', ['softmax', 'sigmoid'] as const),
    augment: values['no-augment'] ? false : undefined,
    checkpointEverySteps: numberOption(values, 'checkpoint-every', { integer: true, min: 0 }),
    backbone: backboneOption(values),
    cachedViews: numberOption(values, 'cached-views', { integer: true, min: 1 }),
    featureCachePrecision: choiceOption(values, 'cache-precision', FEATURE_CACHE_PRECISIONS),
  };
}

function backboneOption(values: ParsedOptions['values']): string | undefined {
  const file = stringOption(values, 'backbone');
  return file === undefined ? undefined : resolve(file);
}

/**
 * `--backbone <catalogue id>` (when no file of that name is here): downloads the entry if needed and
 * returns the settings that use it: its file, and the mean and standard deviation its weights were
 * trained with (the run and then the export sidecar carry them).
 */
async function catalogueBackbone(
  context: CommandContext,
  values: ParsedOptions['values'],
): Promise<Partial<TrainingConfig>> {
  const id = stringOption(values, 'backbone');
  if (id === undefined || !isCatalogueId(id) || existsSync(id)) return {};
  const workspace = resolve(stringOption(values, 'workspace') ?? defaultWorkspaceDir());
  const { entry, downloaded } = await fetchCatalogueBackbone(context, id, workspace, Boolean(values.json));
  if (!values.json) context.stderr.write(`${downloaded ? 'Downloaded' : 'Using'} ${id}: ${entry.path}\n`);
  const { preprocessing } = catalogueEntry(id)!;
  return { backbone: entry.path, mean: preprocessing.mean, std: preprocessing.std };
}

export function defaultRunDir(): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').replace('T', '_').slice(0, 19);
  return resolve('runs', stamp);
}

export async function runTrainingCommand(
  context: CommandContext,
  dataset: string,
  values: ParsedOptions['values'],
  overrides: Partial<TrainingConfig> = {},
): Promise<{ code: number; runDir: string }> {
  const runDir = resolve(stringOption(values, 'out') ?? defaultRunDir());
  const mode = outputMode(context.stdout, Boolean(values.json));
  const out = new ProgressWriter(context.stdout, mode);
  const control = new TrainingControl();
  const backend = choiceOption(values, 'backend', BACKEND_NAMES) as BackendName | undefined;
  const engine = choiceOption(values, 'engine', ENGINE_NAMES) as EngineName | undefined;
  const preset = choiceOption(values, 'preset', PRESET_NAMES);
  const device = deviceOption(values);
  const result = await withInterruptToStop(control, out, () =>
    startTraining(
      { ...trainingSettings(values), ...overrides, dataset: resolve(dataset) },
      {
        runDir,
        backend,
        engine,
        device,
        deviceCacheDir: deviceCacheDir(),
        control,
        preset,
        onEvent: createTrainingReporter(out, mode),
      },
    ),
  );
  out.end();
  if (mode !== 'json') out.line(`Run folder: ${runDir}`);
  const code = result.status === 'cancelled' || result.status === 'paused' ? EXIT.interrupted : EXIT.ok;
  return { code, runDir };
}

export const trainCommand: Command = {
  name: 'train',
  summary: 'train a model on a folder with one sub-folder per class',
  help: `Usage: attnvgg train <folder> [options]

Trains attention-VGG16_bn on <folder> (one sub-folder per class; optional train/ val/ test/ inside).
Writes a run folder: run.json, metrics.jsonl, checkpoints/, evaluation.json (accuracy, per-class
precision/recall/F1, confusion matrix). Ctrl-C stops after the current step with a checkpoint;
\`attnvgg resume <run>\` continues.

  attnvgg train photos/ --backbone torchvision-vgg16bn --preset quick

${TRAINING_OPTIONS_HELP}

${BACKBONE_OPTIONS_HELP}`,
  async run(context) {
    const { values, positionals } = parseOptions(
      context.argv,
      { ...TRAINING_OPTIONS, ...BACKBONE_OPTIONS },
      this.help,
    );
    if (values.help) {
      context.stdout.write(`${this.help}\n`);
      return EXIT.ok;
    }
    if (positionals.length !== 1)
      throw new UserError(
        `Expected one dataset folder, got ${positionals.length}.\n\n${this.help}`,
        EXIT.usage,
      );
    return (
      await runTrainingCommand(context, positionals[0], values, await catalogueBackbone(context, values))
    ).code;
  },
};
