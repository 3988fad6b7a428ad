// `attnvgg train <folder>`: trains a model on a folder of class sub-folders into a run folder.
// Must not import electron or anything from main/electron, main/server or renderer.

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { BACKEND_NAMES, type BackendName } from '../../../models/tfjs/backend.js';
import { OPTIMIZER_NAMES } from '../../../models/train/optimizer.js';
import { SCHEDULE_NAMES } from '../../../models/train/schedule.js';
import { catalogueEntry } from '../../services/backbone/catalogue.js';
import { PRESET_NAMES, type TrainingConfig } from '../../services/training/training-config.js';
import { ENGINE_NAMES, type EngineName } from '../../services/training/training-engine.js';
import { startTraining, TrainingControl } from '../../services/training/training-run.js';
import { defaultWorkspaceDir } from '../../server/default-workspace.js';
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
import { deviceCacheDir, deviceOption, DEVICE_HELP, DEVICE_OPTION } from '../device-option.js';
import { outputMode, ProgressWriter } from '../progress-output.js';
import { createTrainingReporter, withInterruptToStop } from '../training-reporter.js';

export const TRAINING_OPTIONS: OptionSpec = {
  out: { type: 'string', short: 'o' },
  preset: { type: 'string' },
  epochs: { type: 'string' },
  size: { type: 'string' },
  width: { type: 'string' },
  batch: { type: 'string' },
  backend: { type: 'string' },
  engine: { type: 'string' },
  ...DEVICE_OPTION,
  seed: { type: 'string' },
  lr: { type: 'string' },
  optimizer: { type: 'string' },
  schedule: { type: 'string' },
  'weight-decay': { type: 'string' },
  'label-smoothing': { type: 'string' },
  'freeze-blocks': { type: 'string' },
  'early-stopping': { type: 'string' },
  'val-fraction': { type: 'string' },
  'no-attention': { type: 'boolean' },
  compatibility: { type: 'string' },
  normalisation: { type: 'string' },
  'no-augment': { type: 'boolean' },
  'checkpoint-every': { type: 'string' },
  json: { type: 'boolean' },
};

/** Options of `attnvgg train` only (not of compare or demo). */
export const BACKBONE_OPTIONS: OptionSpec = {
  backbone: { type: 'string' },
  'cached-views': { type: 'string' },
  workspace: { type: 'string' },
};

export const BACKBONE_OPTIONS_HELP = `Pretrained backbone (docs/transfer.md):
  --backbone ID|FILE     start from a pretrained VGG16_bn: a catalogue id (\`attnvgg backbone list\`;
                         e.g. torchvision-vgg16bn, downloaded into the workspace first if needed, its
                         preprocessing used) or a file (.pth, .safetensors, .tar.gz, .onnx;
                         \`attnvgg backbone check\` tests one).
                         The width is 1.0 and the presets become: quick (the default) = blocks 1-5
                         frozen, only the attention heads and classifier train, on backbone features
                         computed once (Adam, lr 1e-3, batch 32, 5 epochs); balanced = blocks 1-4
                         frozen, their features computed once, block 5 fine-tuned; full = nothing
                         frozen; the input size defaults to 224
  --cached-views N       with blocks 1-5 or 1-4 frozen (quick, balanced): views stored per training
                         image, view 0 plain, the others augmented (default 1; memory and caching time
                         grow with N)
  --workspace DIR        where catalogue downloads are kept (default: the app's workspace)`;

export const TRAINING_OPTIONS_HELP = `Training options:
  --out, -o DIR          run folder to create (default: runs/<date-time> under the current folder)
  --preset NAME          ${PRESET_NAMES.join(' | ')} (default: balanced settings)
  --epochs N             epochs to train
  --size S               input size in pixels, a multiple of 32 (default 64; 224 with --backbone)
  --width W              channel multiplier, 1.0 = the real VGG16_bn (default 0.25)
  --batch B              batch size (default 32)
  --engine NAME          ${ENGINE_NAMES.join(' | ')} (default: tfjs with native TensorFlow, else
                         onnxruntime; env ATTNVGG_ENGINE)
  --backend NAME         ${BACKEND_NAMES.join(' | ')}: train on this TensorFlow.js backend (env ATTNVGG_BACKEND)
${DEVICE_HELP}
  --seed N               seed of the split, initial weights, order and augmentation (default 0)
  --lr X                 peak learning rate (default 0.05)
  --optimizer NAME       ${OPTIMIZER_NAMES.join(' | ')} (default sgd, momentum 0.9)
  --schedule NAME        ${SCHEDULE_NAMES.join(' | ')} (default onecycle)
  --weight-decay X       L2 weight decay (default 5e-4)
  --label-smoothing X    (default 0)
  --freeze-blocks K      freeze conv blocks 1..K (default 0)
  --early-stopping N     stop after N epochs without a better validation accuracy (0 = off)
  --val-fraction X       share of each class held out when the folder has no val/ (default 0.2)
  --no-attention         the plain VGG16_bn head (ablation baseline)
  --compatibility NAME   pc | dp (default pc)
  --normalisation NAME   softmax | sigmoid (default softmax)
  --no-augment           no flips or shifts
  --checkpoint-every N   also checkpoint every N steps inside an epoch
  --json                 one JSON event per line on stdout`;

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
    compatibility: choiceOption(values, 'compatibility', ['pc', 'dp'] as const),
    normalisation: choiceOption(values, 'normalisation', ['softmax', 'sigmoid'] as const),
    augment: values['no-augment'] ? false : undefined,
    checkpointEverySteps: numberOption(values, 'checkpoint-every', { integer: true, min: 0 }),
    backbone: backboneOption(values),
    cachedViews: numberOption(values, 'cached-views', { integer: true, min: 1 }),
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
