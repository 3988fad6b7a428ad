// The answering phase of a classification (classify-folder.ts): the model's outputs for one batch
// turned into its rows (top-k labels, 'uncertain' under the threshold, the time spent), with each
// image's heat-map files written and the file sorted into its label's folder, a few images at a time;
// the rows come back in the unit's input order, earlier rows and failed files in their places. Must not
// import electron or anything from main/electron, main/backend, main/server, main/cli or renderer.

import type { Semaphore } from '../datasets/semaphore.js';
import type { AttentionMap } from '../heatmaps/attention-map.js';
import { UNCERTAIN_LABEL } from './classify-options.js';
import type { ClassifySetup } from './classify-setup.js';
import type { DecodedBatch, DecodedImage } from './decode-batch.js';
import type { ImageOutputWriter } from './image-outputs.js';
import type { InferenceResult } from './inference-runner.js';
import type { ImageResult, TopLabel } from './results.js';
import { sortFile } from './sort-into.js';

type BatchOutputs = InferenceResult['outputs'];

function topLabels(probs: Float32Array, classes: readonly string[], k: number): TopLabel[] {
  const order = Array.from(probs.keys()).sort((a, b) => probs[b] - probs[a] || a - b);
  return order.slice(0, k).map((i) => ({ label: classes[i], probability: probs[i] }));
}

/** Map k of image i of a batch output [N, h, w]. */
function mapOf(output: { shape: number[]; data: Float32Array }, i: number): AttentionMap {
  const [, h, w] = output.shape;
  return { width: w, height: h, data: output.data.slice(i * h * w, (i + 1) * h * w) };
}

/** Image i's row from the batch's probabilities; `ms` is its decoding and its share of the run. */
function classifiedRow(
  setup: ClassifySetup,
  entry: DecodedImage,
  outputs: BatchOutputs,
  i: number,
  ms: number,
): ImageResult {
  const { classes } = setup;
  const probs = outputs[setup.sidecar.outputs.probabilities];
  const p = probs.data.subarray(i * classes.length, (i + 1) * classes.length);
  const top = topLabels(p, classes, setup.topK);
  const uncertain = top[0].probability < setup.threshold;
  return {
    index: entry.file.index,
    file: entry.file.file,
    path: entry.file.path,
    status: 'ok',
    label: uncertain ? UNCERTAIN_LABEL : top[0].label,
    uncertain,
    top,
    ms,
    bytes: entry.bytes,
    mtimeMs: entry.mtimeMs,
  };
}

/** Copies (or links) the row's file into <sortInto>/<label>/; a failure is noted on the row. */
async function sortIntoLabel(row: ImageResult, sortRoot: string, link: boolean): Promise<void> {
  try {
    row.sortedTo = await sortFile(row.path, sortRoot, row.label as string, link ? 'link' : 'copy');
  } catch (e) {
    row.sortError = `Could not ${link ? 'link' : 'copy'} it into ${sortRoot}: ${(e as Error).message}`;
  }
}

/** The tools the answering phase works with, made once a run. */
export interface RowMaking {
  setup: ClassifySetup;
  writeOutputs: ImageOutputWriter;
  /** Bounds how many images are answered at once. */
  slots: Semaphore;
}

/** The unit's rows, in input order, from the model's answer for its batch (null: nothing was run). */
export async function rowsOfBatch(
  { setup, writeOutputs, slots }: RowMaking,
  batch: DecodedBatch,
  result: InferenceResult | null,
): Promise<ImageResult[]> {
  const made = new Map<number, ImageResult>(batch.failed.map((f) => [f.index, f]));
  if (result) {
    const share = result.ms / Math.max(1, batch.kept.length);
    await Promise.all(
      batch.kept.map((entry, i) =>
        slots.run(async () => {
          const r = classifiedRow(setup, entry, result.outputs, i, entry.decodeMs + share);
          if (setup.wantMaps) {
            const maps = setup.sidecar.outputs.attention.map((a) => mapOf(result.outputs[a.name], i));
            Object.assign(r, await writeOutputs(entry, maps));
          }
          if (setup.sortRoot) await sortIntoLabel(r, setup.sortRoot, setup.options.link ?? false);
          made.set(r.index, r);
        }),
      ),
    );
  }
  return batch.unit.slots.map((slot) =>
    'row' in slot ? slot.row : (made.get(slot.todo.index) as ImageResult),
  );
}
