// `attnvgg classify <model.onnx> <folder-or-files...> --out <dir>`: batch classification with an
// exported model, with optional heat-map overlays and sorting into class folders; the input may be a
// list of paths (--files-from), one shard of it (--shard, for array jobs), and `classify merge` joins
// the shards' results (classify-merge.ts). Must not import electron or anything from main/electron,
// main/server or renderer.

import { resolve } from 'node:path';
import {
  DEFAULT_BATCH,
  DEFAULT_OVERLAY_SIZE,
  DEFAULT_TOP_K,
  classifyFolder,
  type ClassifyOptions,
  type ClassifyOutcome,
  type ClassifyProgress,
} from '../../services/classify/classify-folder.js';
import { planInputs, type InputSpec } from '../../services/classify/input-source.js';
import { parseShard, ShardError, type Shard } from '../../services/classify/shard.js';
import { MAP_LEVELS, type MapLevel } from '../../services/heatmaps/attention-map.js';
import { COLORMAP_NAMES } from '../../services/heatmaps/colormap.js';
import { EXIT, UserError, type Command, type CommandContext } from '../command.js';
import { DEVICE_CHOICES, DEVICE_ENV_VAR } from '../../../models/onnx/device.js';
import { resolveDevice } from '../../services/device/resolve-device.js';
import { deviceCacheDir, deviceOption, DEVICE_OPTION } from '../device-option.js';
import { whileInterruptible } from '../interrupt.js';
import {
  choiceOption,
  numberOption,
  parseOptions,
  stringOption,
  type OptionSpec,
  type ParsedOptions,
} from '../parse-options.js';
import { bar, formatSeconds, outputMode, ProgressWriter, type OutputMode } from '../progress-output.js';
import { runClassifyMerge } from './classify-merge.js';

const HELP = `Usage: attnvgg classify <model.onnx> <folder-or-files...> --out <dir> [options]
       attnvgg classify <model.onnx> --files-from <list|-> --out <dir> [--shard K/N] [options]
       attnvgg classify merge <out-dir> <shard-dir...>

Classifies every picture in the folders (recursively) and files given, with the model exported by
\`attnvgg export\` (its <model>.json must be beside it: the pictures are prepared exactly as in training).
Writes <dir>/results.jsonl (one JSON row per file, in input order, appended as it goes), <dir>/results.csv
(the same rows) and <dir>/summary.json (model and its SHA-256, options, counts). Files that cannot be
read are rows with the reason; they never stop the run. Ctrl-C stops after the current batch and saves
the results; --resume continues.

Options:
  --out, -o DIR        output folder (required, except with --plan)
  --files-from LIST    classify the paths listed in the text file LIST, one per line (- : standard
                       input); blank lines are left out. Millions of lines are read as a stream
  --shard K/N          classify only shard K (0 to N-1) of N: input number i (its line in the list,
                       or its place in the sorted walk of the folders) belongs to shard i mod N. Give
                       each shard its own --out; \`attnvgg classify merge\` joins them in input order
  --limit N            stop after N files (of the shard)
  --plan               print how many files each of the N shards gets (N from --shard, else 1), and
                       classify nothing
  --top-k K            labels kept per image (default ${DEFAULT_TOP_K})
  --threshold P        below this top probability the label is "uncertain" (0-1, default 0: never)
  --heatmaps           write an overlay PNG of the attention map per image under DIR/heatmaps/
  --level L            1 | 2 | 3 | combined (default combined: the three maps averaged)
  --colormap NAME      ${COLORMAP_NAMES.join(' | ')} (default turbo)
  --opacity X          weight of the map over the picture, 0-1 (default 0.5)
  --legend             add a colour bar (1 = the map's peak, 0 = nothing) to each overlay
  --overlay-size PX    overlay side (default: the picture's own, at most ${DEFAULT_OVERLAY_SIZE}, at least S)
  --raw-maps FORMAT    also write the raw maps: json (one file, all levels) | npy (one per level)
  --sort-into DIR      copy each file into DIR/<label>/
  --link               with --sort-into: symbolic links instead of copies
  --resume             skip files already in DIR/results.jsonl (unchanged since); only with the same
                       model, shard and options as before (leave it out to start again)
  --batch B            images per inference run (default ${DEFAULT_BATCH})
  --threads N          inference threads (default: cores - 1, leaving one for decoding)
  --device NAME        ${DEVICE_CHOICES.join(' | ')}: where the model runs (default cpu; env ${DEVICE_ENV_VAR})
  --json               progress and the summary as JSON lines on stdout

Scale-out (Slurm array jobs, Kubernetes Indexed Jobs, a container image): see docs/scale-out.md.`;

function levelOption(raw: string | undefined): MapLevel | undefined {
  if (raw === undefined) return undefined;
  const level = raw === 'combined' ? 'combined' : Number(raw);
  if (!MAP_LEVELS.includes(level as MapLevel))
    throw new UserError(`Unsupported --level "${raw}". Should be one of: 1, 2, 3, combined`, EXIT.usage);
  return level as MapLevel;
}

function shardOption(raw: string | undefined): Shard | null {
  if (raw === undefined) return null;
  try {
    return parseShard(raw);
  } catch (error) {
    if (error instanceof ShardError) throw new UserError(error.message, EXIT.usage);
    throw error;
  }
}

const CLASSIFY_OPTIONS: OptionSpec = {
  out: { type: 'string', short: 'o' },
  'top-k': { type: 'string' },
  threshold: { type: 'string' },
  heatmaps: { type: 'boolean' },
  level: { type: 'string' },
  colormap: { type: 'string' },
  opacity: { type: 'string' },
  legend: { type: 'boolean' },
  'overlay-size': { type: 'string' },
  'raw-maps': { type: 'string' },
  'sort-into': { type: 'string' },
  link: { type: 'boolean' },
  resume: { type: 'boolean' },
  batch: { type: 'string' },
  threads: { type: 'string' },
  ...DEVICE_OPTION,
  json: { type: 'boolean' },
  'files-from': { type: 'string' },
  shard: { type: 'string' },
  limit: { type: 'string' },
  plan: { type: 'boolean' },
};

/** What the command line asks to classify, checked. */
interface ClassifyArgs {
  values: ParsedOptions['values'];
  model: string;
  spec: InputSpec;
  out: string | undefined;
  shard: Shard | null;
  limit: number | null;
}

function classifyArgsOf({ values, positionals }: ParsedOptions, help: string): ClassifyArgs {
  const out = stringOption(values, 'out');
  const list = stringOption(values, 'files-from');
  const [model, ...inputs] = positionals;
  if (list !== undefined && inputs.length > 0)
    throw new UserError(
      `Give either folders and files or --files-from, not both (got ${inputs.join(' ')}).`,
      EXIT.usage,
    );
  const spec: InputSpec = list !== undefined ? { list } : { paths: inputs };
  if (!model || (list === undefined && inputs.length === 0) || (!out && !values.plan))
    throw new UserError(
      `Expected a model, at least one folder or file (or --files-from), and --out <dir>.\n\n${help}`,
      EXIT.usage,
    );
  const shard = shardOption(stringOption(values, 'shard'));
  const limit = numberOption(values, 'limit', { integer: true, min: 1 }) ?? null;
  return { values, model, spec, out, shard, limit };
}

/** `--plan`: how many files each shard gets; nothing is classified. */
async function printPlan(context: CommandContext, args: ClassifyArgs): Promise<number> {
  const { spec, out, shard, limit } = args;
  const plan = await planInputs(spec, out ? [resolve(out)] : [], shard?.count ?? 1, limit);
  if (args.values.json) context.stdout.write(`${JSON.stringify({ type: 'plan', ...plan })}\n`);
  else {
    context.stdout.write(
      `${plan.total.toLocaleString('en')} files to classify` +
        (plan.skipped > 0 ? ` (${plan.skipped.toLocaleString('en')} hidden or system files left out)` : '') +
        '\n',
    );
    for (const s of plan.shards)
      context.stdout.write(`shard ${s.shard}/${plan.shards.length}: ${s.files.toLocaleString('en')} files\n`);
  }
  return EXIT.ok;
}

/** --threshold and --opacity, each from 0 to 1. */
function fractionOptions(values: ParsedOptions['values']): { threshold?: number; opacity?: number } {
  const threshold = numberOption(values, 'threshold', { min: 0 });
  const opacity = numberOption(values, 'opacity', { min: 0 });
  for (const [name, v] of [
    ['threshold', threshold],
    ['opacity', opacity],
  ] as const)
    if (v !== undefined && v > 1)
      throw new UserError(`--${name} must be between 0 and 1, got ${v}`, EXIT.usage);
  return { threshold, opacity };
}

/** The rest of the service's options from the command line, with those already read in `known`. */
function classifyOptionsOf(
  args: ClassifyArgs,
  known: Pick<ClassifyOptions, 'threshold' | 'opacity' | 'device' | 'signal' | 'onProgress'>,
): ClassifyOptions {
  const { values, shard, limit } = args;
  return {
    topK: numberOption(values, 'top-k', { integer: true, min: 1 }),
    threshold: known.threshold,
    heatmaps: Boolean(values.heatmaps),
    level: levelOption(stringOption(values, 'level')),
    colormap: choiceOption(values, 'colormap', COLORMAP_NAMES),
    opacity: known.opacity,
    legend: Boolean(values.legend),
    overlaySize: numberOption(values, 'overlay-size', { integer: true, min: 8 }),
    rawMaps: choiceOption(values, 'raw-maps', ['json', 'npy'] as const),
    sortInto: stringOption(values, 'sort-into'),
    link: Boolean(values.link),
    resume: Boolean(values.resume),
    batch: numberOption(values, 'batch', { integer: true, min: 1 }),
    threads: numberOption(values, 'threads', { integer: true, min: 1 }),
    ...(shard ? { shard } : {}),
    ...(limit !== null ? { limit } : {}),
    device: known.device,
    signal: known.signal,
    onProgress: known.onProgress,
  };
}

/** Shows the progress: JSON lines, or a bar (on a terminal) and a line every 5 s (in a log). */
function progressPrinter(writer: ProgressWriter, mode: OutputMode): (p: ClassifyProgress) => void {
  let lastLine = 0;
  return (p) => {
    if (mode === 'json') {
      writer.json({
        type: 'progress',
        ...p,
        etaSeconds: Number.isFinite(p.etaSeconds) ? p.etaSeconds : null,
      });
      return;
    }
    const text =
      (p.totalKnown
        ? `${bar(p.total === 0 ? 1 : p.done / p.total)} ${p.done}/${p.total} images, `
        : `${p.done} images, `) +
      `${p.imagesPerSecond.toFixed(0)} img/s, ETA ${formatSeconds(p.etaSeconds)}` +
      (p.failed > 0 ? `, ${p.failed} unreadable` : '');
    const now = Date.now();
    const asLine = now - lastLine > 5000 || (p.totalKnown && p.done === p.total);
    if (asLine) lastLine = now;
    writer.transient(text, asLine);
  };
}

/** The end of the run: a JSON line, or what was classified, where the results are and how to go on. */
function printOutcome(writer: ProgressWriter, mode: OutputMode, outcome: ClassifyOutcome): void {
  const { summary } = outcome.summary;
  if (mode === 'json') {
    writer.json({
      type: 'finished',
      status: outcome.status,
      results: outcome.rowsPath,
      csv: outcome.csvPath,
      summaryFile: outcome.summaryPath,
      ...summary,
    });
    return;
  }
  const labels = Object.entries(summary.byLabel)
    .sort((a, b) => b[1] - a[1])
    .map(([label, n]) => `${label} ${n}`)
    .join(', ');
  writer.line(
    `${outcome.status === 'completed' ? 'Classified' : 'Stopped after'} ${summary.ok} of ${summary.images} files` +
      (summary.failed > 0 ? ` (${summary.failed} could not be read: reasons in results.csv)` : '') +
      (labels ? `: ${labels}` : ''),
  );
  writer.line(`Results: ${outcome.csvPath}`);
  if (outcome.status === 'cancelled') writer.line('Run the same command with --resume to continue.');
}

/** Classifies with the progress shown; Ctrl-C stops after the batch in progress. */
async function classifyWithProgress(
  context: CommandContext,
  args: ClassifyArgs,
  out: string,
): Promise<number> {
  const fractions = fractionOptions(args.values);
  const mode = outputMode(context.stdout, Boolean(args.values.json));
  const writer = new ProgressWriter(context.stdout, mode);
  const onProgress = progressPrinter(writer, mode);
  const { device } = await resolveDevice({ device: deviceOption(args.values), cacheDir: deviceCacheDir() });
  const controller = new AbortController();
  let outcome: ClassifyOutcome;
  try {
    outcome = await whileInterruptible(
      {
        stopping: () => controller.signal.aborted,
        stop: () => controller.abort(),
        message: 'Stopping after this batch and saving the results (Ctrl-C again to quit at once)...',
        out: writer,
      },
      () =>
        classifyFolder(
          resolve(args.model),
          args.spec,
          resolve(out),
          classifyOptionsOf(args, { ...fractions, device, signal: controller.signal, onProgress }),
        ),
    );
  } finally {
    writer.end();
  }
  printOutcome(writer, mode, outcome);
  return outcome.status === 'completed' ? EXIT.ok : EXIT.interrupted;
}

export const classifyCommand: Command = {
  name: 'classify',
  summary: 'classify folders of pictures with an exported model (results, heat-maps, sorting)',
  help: HELP,
  async run(context) {
    if (context.argv[0] === 'merge') return runClassifyMerge({ ...context, argv: context.argv.slice(1) });
    const parsed = parseOptions(context.argv, CLASSIFY_OPTIONS, this.help);
    if (parsed.values.help) {
      context.stdout.write(`${this.help}\n`);
      return EXIT.ok;
    }
    const args = classifyArgsOf(parsed, this.help);
    if (args.values.plan) return printPlan(context, args);
    if (!args.out) throw new UserError('--out is required.', EXIT.usage);
    return classifyWithProgress(context, args, args.out);
  },
};
