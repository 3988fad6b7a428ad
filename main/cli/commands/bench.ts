// `attnvgg bench infer <model.onnx>` and `attnvgg bench train`: the speed figures of bench/RESULTS.md
// from the command line, as JSON lines. Must not import electron or anything from main/electron,
// main/server or renderer.

import { resolve } from 'node:path';
import { selectBackend } from '../../../models/tfjs/backend.js';
import { measureOnnxTrainSpeed } from '../../../models/bench/measure-onnx-training.js';
import {
  BENCH_TRAIN_TARGETS,
  BenchError,
  measureTrainSpeed,
  parseBenchTrainTargets,
  type BenchTrainTarget,
  type TrainSpeedResult,
} from '../../../models/bench/measure-tfjs-training.js';
import { chooseTrainingEngine } from '../../services/training/training-engine.js';
import { measureInferSpeed } from '../../services/classify/infer-speed.js';
import { EXIT, UserError, type Command, type CommandContext } from '../command.js';
import { numberOption, parseOptions } from '../parse-options.js';
import { deviceCacheDir, deviceOption, DEVICE_OPTION } from '../device-option.js';
import { resolveDevice } from '../../services/device/resolve-device.js';
import { DEVICE_CHOICES, DEVICE_ENV_VAR } from '../../../models/onnx/device.js';

const HELP = `Usage: attnvgg bench infer <model.onnx> --batch B [--threads N] [--steps N] [--warmup N] [--device NAME] [--json]
       attnvgg bench train --size S --width W --batch B [--backend NAME]... [--engine NAME]... [--steps N]
                           [--warmup N] [--threads N] [--device NAME] [--json]

infer   images/s of an exported model on onnxruntime-node (CPU, or --device): one fixed random batch, --warmup
        untimed runs (default 3), then --steps timed runs (default 10); infer_img_s is batch / the
        median. --threads: intra-op threads (default: the number of cores).
train   training and inference images/s with random weights and data, as the PyTorch peer's \`speed\`
        measures them (SGD momentum 0.9, 10 classes), one line per target with backend, train_img_s
        (batch / the median timed step) and peak_rss_mb. --backend (repeatable: ${BENCH_TRAIN_TARGETS.join(', ')});
        --engine (repeatable: tfjs = the TensorFlow.js backend training would use, onnxruntime); default:
        the engine training would pick. --steps timed steps (default 5) after --warmup (default 2);
        --threads: onnxruntime intra-op threads (default: the number of cores).

--device (${DEVICE_CHOICES.join(', ')}; env ${DEVICE_ENV_VAR}): the onnxruntime device of bench infer and
of the onnxruntime engine in bench train (a GPU device measures the onnxruntime engine only). The warm-up
runs include a GPU's shader compilation.
Prints one JSON line per measurement (with or without --json; --json only drops the one-line summary).
The machine's other load changes the figures: compare with a peer measured in the same session.`;

async function benchInfer(context: CommandContext, argv: string[]): Promise<number> {
  const { values, positionals } = parseOptions(
    argv,
    {
      batch: { type: 'string' },
      threads: { type: 'string' },
      steps: { type: 'string' },
      warmup: { type: 'string' },
      ...DEVICE_OPTION,
      json: { type: 'boolean' },
    },
    HELP,
  );
  const batch = numberOption(values, 'batch', { integer: true, min: 1 });
  if (positionals.length !== 1 || batch === undefined)
    throw new UserError(`Expected one model file and --batch B.\n\n${HELP}`, EXIT.usage);
  const result = await measureInferSpeed(resolve(positionals[0]), {
    batch,
    threads: numberOption(values, 'threads', { integer: true, min: 1 }),
    device: (await resolveDevice({ device: deviceOption(values), cacheDir: deviceCacheDir() })).device,
    steps: numberOption(values, 'steps', { integer: true, min: 1 }),
    warmup: numberOption(values, 'warmup', { integer: true, min: 0 }),
  });
  context.stdout.write(`${JSON.stringify({ kind: 'infer', ...result })}\n`);
  if (!values.json)
    context.stderr.write(
      `${result.infer_img_s} images/s (S=${result.size}, width ${result.width}, batch ${batch}, ${result.threads} threads; median of ${result.ms.length} runs)\n`,
    );
  return EXIT.ok;
}

async function benchTrain(context: CommandContext, argv: string[]): Promise<number> {
  const { values, positionals } = parseOptions(
    argv,
    {
      size: { type: 'string' },
      width: { type: 'string' },
      batch: { type: 'string' },
      backend: { type: 'string', multiple: true },
      engine: { type: 'string', multiple: true },
      steps: { type: 'string' },
      warmup: { type: 'string' },
      threads: { type: 'string' },
      ...DEVICE_OPTION,
      json: { type: 'boolean' },
    },
    HELP,
  );
  const size = numberOption(values, 'size', { integer: true, min: 32 });
  const width = numberOption(values, 'width', { min: 0 });
  const batch = numberOption(values, 'batch', { integer: true, min: 1 });
  if (positionals.length > 0 || size === undefined || width === undefined || batch === undefined)
    throw new UserError(`Expected --size, --width and --batch.\n\n${HELP}`, EXIT.usage);
  const list = (name: string): string[] => {
    const raw = (values as Record<string, unknown>)[name];
    return (Array.isArray(raw) ? raw : []) as string[];
  };
  let named;
  try {
    named = parseBenchTrainTargets(list('backend'), list('engine'));
  } catch (error) {
    if (error instanceof BenchError) throw new UserError(error.message, EXIT.usage);
    throw error;
  }
  const targets: BenchTrainTarget[] = [];
  for (const t of named.length > 0 ? named : ['default' as const]) {
    if (t === 'tfjs') targets.push((await selectBackend()).chosen);
    else if (t === 'default') {
      const choice = await chooseTrainingEngine({ optimizer: 'sgd' });
      targets.push(choice.engine === 'onnxruntime' ? 'onnxruntime' : (choice.backend?.chosen ?? 'wasm'));
    } else targets.push(t);
  }
  const steps = numberOption(values, 'steps', { integer: true, min: 1 });
  const warmup = numberOption(values, 'warmup', { integer: true, min: 0 });
  const threads = numberOption(values, 'threads', { integer: true, min: 1 });
  const { device } = await resolveDevice({ device: deviceOption(values), cacheDir: deviceCacheDir() });
  // A GPU device exists only for the onnxruntime engine.
  if (device !== 'cpu') targets.splice(0, targets.length, 'onnxruntime');
  for (const target of [...new Set(targets)]) {
    const result: TrainSpeedResult =
      target === 'onnxruntime'
        ? await measureOnnxTrainSpeed({ size, width, batch, steps, warmup, threads, device })
        : await measureTrainSpeed({ size, width, batch, backend: target, steps, warmup });
    context.stdout.write(`${JSON.stringify({ kind: 'train', ...result })}\n`);
    if (!values.json)
      context.stderr.write(
        `${target}${result.device && result.device !== 'cpu' ? ` on ${result.device}` : ''}: train ${result.train_img_s} images/s, inference ${result.infer_img_s} images/s, peak RSS ${result.peak_rss_mb} MiB\n`,
      );
  }
  return EXIT.ok;
}

export const benchCommand: Command = {
  name: 'bench',
  summary: 'measure inference (exported model) or training speed, as JSON',
  help: HELP,
  async run(context) {
    const [what, ...rest] = context.argv;
    if (!what || what === '--help' || what === '-h') {
      context.stdout.write(`${HELP}\n`);
      return what ? EXIT.ok : EXIT.usage;
    }
    if (rest.includes('--help') || rest.includes('-h')) {
      context.stdout.write(`${HELP}\n`);
      return EXIT.ok;
    }
    if (what === 'infer') return benchInfer(context, rest);
    if (what === 'train') return benchTrain(context, rest);
    throw new UserError(`Unknown benchmark "${what}". Should be one of: infer, train`, EXIT.usage);
  },
};
