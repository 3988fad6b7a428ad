// Which attention map should the app show by default? Trains the demo's model (main/cli/commands/demo.ts
// DEMO_SETTINGS) on two datasets with boxes, over several seeds, and plays the pointing game
// (boxes/localisation.ts) on each attention level and on every combination of the levels
// (heatmaps/attention-map.ts MAP_COMBINATIONS) over the test pictures:
//   shapes    the sample dataset (`attnvgg data shapes`, seed 0: 400/50/50 per class, 64 px, boxes.json)
//   clutter   sample/generate-clutter-dataset.ts: small objects among distractors in 96 x 64 pictures,
//             boxes in YOLO files (read through boxes/find-boxes.ts, as a user's dataset would be)
// Each (dataset, seed) prints one JSON line (accuracy, per-level and per-combination hit rate, interval,
// random-peak rate, energy) and appends it to --out; at the end a `summary` line per dataset gives each
// map's mean hit rate over seeds with a 95 % t-interval. Every line carries the 1-minute load average.
// Run: node --import tsx bench/combine-maps.ts [--seeds 0,1,2,3,4] [--datasets shapes,clutter]
//        [--dir bench/out/combine-maps] [--out bench/out/combine-maps.jsonl] [--epochs N] [--reuse]
//        [--compatibility pc|dp|additive] [--normalisation softmax|sigmoid]
// --compatibility / --normalisation train with that attention instead of the demo's (pc, softmax); the
// runs then go to their own folders (<dataset>-<compatibility>-<normalisation>-run-<seed>).
// --reuse scores the runs already finished in --dir again instead of training them (a new combination
// measured on the same models).
import { access, appendFile, mkdir, rm } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEMO_SETTINGS } from '../main/cli/commands/demo.js';
import { findDatasetBoxes, type BoxedPicture } from '../main/services/boxes/find-boxes.js';
import { scanDataset } from '../main/services/datasets/scan-dataset.js';
import { MAP_COMBINATIONS } from '../main/services/heatmaps/attention-map.js';
import { generateClutterDataset } from '../main/services/sample/generate-clutter-dataset.js';
import { generateShapesDataset, readShapesBoxes } from '../main/services/sample/index.js';
import { localiseRun, type BoxesByPath } from '../main/services/training/attention-pointing.js';
import { loadRunModel } from '../main/services/training/load-run-model.js';
import { startTraining } from '../main/services/training/training-run.js';
import type { Compatibility, Normalisation } from '../models/core/spec.js';
import { selectBackend } from '../models/tfjs/backend.js';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '0,1,2,3,4' },
    datasets: { type: 'string', default: 'shapes,clutter' },
    dir: { type: 'string', default: 'bench/out/combine-maps' },
    out: { type: 'string', default: 'bench/out/combine-maps.jsonl' },
    epochs: { type: 'string' },
    reuse: { type: 'boolean', default: false },
    compatibility: { type: 'string' },
    normalisation: { type: 'string' },
  },
});
const attention = {
  ...(values.compatibility ? { compatibility: values.compatibility as Compatibility } : {}),
  ...(values.normalisation ? { normalisation: values.normalisation as Normalisation } : {}),
};
const variant =
  Object.keys(attention).length > 0
    ? `${values.compatibility ?? 'pc'}-${values.normalisation ?? 'softmax'}-`
    : '';
const dir = resolve(values.dir as string);
const outFile = resolve(values.out as string);
const seeds = (values.seeds as string).split(',').map(Number);
const datasets = (values.datasets as string).split(',');
const exists = (p: string): Promise<boolean> =>
  access(p).then(
    () => true,
    () => false,
  );

async function emit(line: Record<string, unknown>): Promise<void> {
  const text = JSON.stringify({ ...line, load_1m: Number(loadavg()[0].toFixed(2)) });
  console.log(text);
  await appendFile(outFile, `${text}\n`);
}

async function prepare(
  kind: string,
): Promise<{ data: string; boxes: (items: readonly BoxedPicture[]) => Promise<BoxesByPath> }> {
  const data = join(dir, `${kind}-data`);
  if (kind === 'shapes') {
    if (!(await exists(join(data, 'boxes.json')))) await generateShapesDataset(data, { seed: 0 });
    return { data, boxes: () => readShapesBoxes(data) };
  }
  if (kind === 'clutter') {
    if (!(await exists(join(data, 'classes.txt')))) await generateClutterDataset(data, { seed: 0 });
    return {
      data,
      boxes: async (items) => Object.fromEntries((await findDatasetBoxes(data, items)).boxes),
    };
  }
  throw new Error(`Unknown dataset "${kind}". Should be one of: shapes, clutter.`);
}

function tInterval(xs: readonly number[]): [number, number, number] {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return [mean, mean, mean];
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
  // Two-sided 95 % Student t quantiles for n - 1 = 1..9 degrees of freedom.
  const t = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262][n - 2] ?? 1.96;
  return [mean, mean - (t * sd) / Math.sqrt(n), mean + (t * sd) / Math.sqrt(n)];
}

await mkdir(dir, { recursive: true });
await selectBackend();
await emit({ kind: 'machine', cpus: cpus().length, cpu: cpus()[0]?.model, date: new Date().toISOString() });
const results = new Map<string, Record<string, number>[]>();
for (const seed of seeds)
  for (const kind of datasets) {
    const { data, boxes } = await prepare(kind);
    const runDir = join(dir, `${kind}-${variant}run-${seed}`);
    const reused = values.reuse && (await exists(join(runDir, 'evaluation.json')));
    if (!reused) await rm(runDir, { recursive: true, force: true });
    const started = performance.now();
    if (!reused)
      await startTraining(
        {
          dataset: data,
          seed,
          epochs: values.epochs ? Number(values.epochs) : DEMO_SETTINGS.epochs,
          width: DEMO_SETTINGS.width,
          inputSize: DEMO_SETTINGS.inputSize,
          batchSize: DEMO_SETTINGS.batchSize,
          optimizer: DEMO_SETTINGS.optimizer,
          lr: DEMO_SETTINGS.lr,
          augment: { ...DEMO_SETTINGS.augment },
          ...attention,
        },
        { runDir },
      );
    const trainSeconds = (performance.now() - started) / 1000;
    const scan = await scanDataset(data, {});
    const test = scan.items.filter((i) => i.split === 'test');
    const run = await loadRunModel(runDir);
    const { accuracy, localisation } = await localiseRun(run, test, await boxes(test), MAP_COMBINATIONS);
    if (!localisation) throw new Error(`No test picture of ${kind} has a box.`);
    const row: Record<string, number> = { accuracy };
    localisation.levels.forEach((s, k) => (row[`level${k + 1}`] = s.hitRate));
    for (const [name, s] of Object.entries(localisation.combinations ?? {})) row[name] = s.hitRate;
    (results.get(kind) ?? results.set(kind, []).get(kind)!).push(row);
    await emit({
      kind: 'run',
      dataset: kind,
      seed,
      attention: `${run.record.spec.compatibility}/${run.record.spec.normalisation}`,
      trainSeconds: reused ? null : Number(trainSeconds.toFixed(1)),
      images: localisation.images,
      accuracy,
      chance: localisation.levels[0].chanceRate,
      hits: row,
      energy: Object.fromEntries([
        ...localisation.levels.map((s, k) => [`level${k + 1}`, Number(s.energy.toFixed(4))]),
        ...Object.entries(localisation.combinations ?? {}).map(([n, s]) => [n, Number(s.energy.toFixed(4))]),
      ]),
    });
  }
for (const [kind, rows] of results) {
  const keys = Object.keys(rows[0]);
  await emit({
    kind: 'summary',
    dataset: kind,
    attention: `${values.compatibility ?? 'pc'}/${values.normalisation ?? 'softmax'}`,
    seeds: rows.length,
    mean_ci: Object.fromEntries(
      keys.map((k) => [k, tInterval(rows.map((r) => r[k])).map((v) => Number(v.toFixed(4)))]),
    ),
  });
}
