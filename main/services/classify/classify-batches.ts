// The batch loop of a classification (classify-folder.ts): the input's units decoded two ahead, each
// batch run on the model while the previous one's rows and files are written, the rows flushed and
// summary.json rewritten every few seconds, and a cancel honoured after the batch in progress. Must not
// import electron or anything from main/electron, main/backend, main/server, main/cli or renderer.

import { createSemaphore } from '../datasets/semaphore.js';
import { batchUnits, type Unit } from './batch-units.js';
import { rowsOfBatch, type RowMaking } from './batch-rows.js';
import type { ClassifySetup } from './classify-setup.js';
import { decodeBatch, type DecodedBatch } from './decode-batch.js';
import { imageOutputWriter } from './image-outputs.js';
import type { InferenceResult } from './inference-runner.js';
import type { ModelRunner, OpenedRun } from './open-classify-run.js';

/**
 * Units k + 1 and k + 2 are being decoded while unit k runs: two in flight so the decode slots never
 * idle at the end of a batch (the semaphore serves the earlier unit first).
 */
const PREFETCH_BATCHES = 2;

/** The units of the input, decoded PREFETCH_BATCHES ahead of the one being classified. */
class DecodedAhead {
  private readonly ahead: Promise<DecodedBatch | null>[] = [];

  constructor(
    private readonly units: AsyncGenerator<Unit>,
    private readonly decode: (unit: Unit) => Promise<DecodedBatch>,
  ) {}

  private async pull(): Promise<DecodedBatch | null> {
    const next = await this.units.next();
    return next.done ? null : this.decode(next.value);
  }

  /** Starts decoding until PREFETCH_BATCHES are in flight. */
  fill(): void {
    while (this.ahead.length < PREFETCH_BATCHES) this.ahead.push(this.pull());
  }

  /** The next decoded batch (null after the last one), with the one after it started. */
  async next(): Promise<DecodedBatch | null> {
    const batch = await (this.ahead.shift() as Promise<DecodedBatch | null>);
    if (batch) this.fill();
    return batch;
  }

  /** Waits for the decodes in flight (their failures no longer matter) and closes the units. */
  async close(): Promise<void> {
    await Promise.all(this.ahead.map((p) => p.catch(() => undefined)));
    await this.units.return(undefined);
  }
}

/** The model's outputs the run reads: the probabilities, and the attention maps when they are drawn. */
function wantedOutputs(setup: ClassifySetup): string[] {
  const { outputs } = setup.sidecar;
  return [outputs.probabilities, ...(setup.wantMaps ? outputs.attention.map((a) => a.name) : [])];
}

/** Runs the model on a batch's decoded files; null when none of them could be decoded. */
async function inferBatch(
  setup: ClassifySetup,
  runner: ModelRunner,
  batch: DecodedBatch,
  wanted: readonly string[],
): Promise<InferenceResult | null> {
  const n = batch.kept.length;
  if (n === 0) return null;
  const model = await runner.get(); // standard input: not counted ahead, opened at the first batch
  return model.run({ shape: [n, 3, setup.size, setup.size], data: batch.x }, wanted);
}

/** How the batch loop ended: cancelled (by the signal) or not, or failed with `failure.error`. */
export interface BatchesEnd {
  cancelled: boolean;
  failure: { error: unknown } | null;
}

/** Classifies the input batch by batch into the run's results; `progress` is called after each batch. */
export async function classifyBatches(
  setup: ClassifySetup,
  { input, run, runner }: OpenedRun,
  progress: () => void,
): Promise<BatchesEnd> {
  const concurrency = setup.options.decodeConcurrency ?? 4;
  const decodeSlots = createSemaphore(concurrency);
  const making: RowMaking = {
    setup,
    writeOutputs: imageOutputWriter(setup),
    slots: createSemaphore(concurrency),
  };
  const post = async (batch: DecodedBatch, result: InferenceResult | null): Promise<void> => {
    await run.writer.append(await rowsOfBatch(making, batch, result));
    run.classifiedNow += batch.unit.todo.length;
    progress();
  };
  const units = batchUnits(input.items, run.earlier, setup.batchSize, run.tally);
  const ahead = new DecodedAhead(units, (unit) => decodeBatch(setup, unit, decodeSlots));
  const saveEvery = (setup.options.saveEverySeconds ?? 10) * 1000;
  let lastSave = performance.now();
  const end: BatchesEnd = { cancelled: false, failure: null };
  try {
    progress();
    const wanted = wantedOutputs(setup);
    ahead.fill();
    let posting: Promise<void> = Promise.resolve();
    for (;;) {
      if (setup.options.signal?.aborted) {
        end.cancelled = true;
        break;
      }
      const batch = await ahead.next();
      if (!batch) break;
      const result = await inferBatch(setup, runner, batch, wanted);
      await posting;
      posting = post(batch, result);
      if (performance.now() - lastSave > saveEvery) {
        await posting;
        await run.save();
        lastSave = performance.now();
      }
    }
    await posting;
  } catch (error) {
    end.failure = { error };
  }
  await ahead.close();
  return end;
}
