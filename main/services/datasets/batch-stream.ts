// The training input pipeline: one epoch of batches, in a seeded order, decoded ahead of the consumer.
// While the model computes on batch k, batches k+1 .. k+prefetch are being decoded (at most
// decodeConcurrency files at once, earliest batch first), so compute waits on decoding only when decoding
// is slower than compute. A file that fails to decode is reported through onSkip and left out of its
// batch; it never stops training. Must not import electron or anything from main/electron, main/backend, main/server,
// main/cli or renderer.
import { createRandom, permutation } from '../../../models/core/random.js';
import { decodeImageRgb8, type DecodeOptions } from '../images/decode-image.js';
import { imageFailureInfo, type ImageErrorInfo } from '../images/image-error.js';
import { normaliseRgb8, type NormaliseOptions } from '../images/normalise.js';
import { augmentRgb8, type AugmentOptions } from './augment-image.js';
import { decodeCacheKey, type DecodeCache } from './decode-cache.js';
import { deriveSeed } from './derive-seed.js';
import { createSemaphore } from './semaphore.js';

export interface BatchItem {
  path: string;
  classIndex: number;
  /**
   * What keys the item's augmentation stream (default: its path). Dataset items use their path relative
   * to the dataset, so a run gives the same result wherever the folder lives.
   */
  relativePath?: string;
}

export interface Batch {
  /** Normalised pixels, NHWC: size x inputSize x inputSize x 3. */
  x: Float32Array;
  /** Class index of each image. */
  labels: Int32Array;
  paths: string[];
  /** Images in this batch: batchSize, fewer for the last batch or when files were skipped. */
  size: number;
  /** Position of the batch in the epoch (0-based), counting skipped-empty batches. */
  index: number;
  epoch: number;
}

export interface SkippedFile {
  path: string;
  error: ImageErrorInfo;
}

export interface BatchStreamOptions extends NormaliseOptions {
  batchSize: number;
  /** Model input size S (images are decoded to S x S). */
  inputSize: number;
  /** Shuffle the order each epoch (default true). Without it, items come in the given order. */
  shuffle?: boolean;
  /** Seed of the shuffle and of the augmentation (default 0). Augmentation is drawn per (seed, epoch, path). */
  seed?: number;
  /** Epoch number (default 0): each epoch has its own order and augmentation from the same seed. */
  epoch?: number;
  /** Augmentation (training only). Default none. */
  augment?: AugmentOptions | false;
  /** Batches decoded ahead of the consumer (default 2, at least 1). */
  prefetch?: number;
  /** Files decoded at once (default 4). */
  decodeConcurrency?: number;
  /** Decoding settings other than the size (resize policy, backgrounds, limits). */
  decode?: Omit<DecodeOptions, 'size'>;
  /** Keeps decoded images across epochs, when given. */
  cache?: DecodeCache;
  /** Leave out the last batch when it is smaller than batchSize (default false). */
  dropLast?: boolean;
  /** Called for each file that cannot be decoded; the file is left out. */
  onSkip?: (skipped: SkippedFile) => void;
}

export interface BatchStream extends AsyncIterableIterator<Batch> {
  /** Number of batches this epoch will have if no file is skipped. */
  readonly batchCount: number;
}

/** The order in which an epoch visits the items: a seeded permutation, or 0..n-1 without shuffling. */
export function epochOrder(
  count: number,
  options: { shuffle?: boolean; seed?: number; epoch?: number },
): number[] {
  if (options.shuffle === false) return Array.from({ length: count }, (_, i) => i);
  return permutation(count, createRandom(deriveSeed(options.seed ?? 0, 'order', options.epoch ?? 0)));
}

/** One epoch of batches over `items` (see the module comment). */
export function createBatchStream(items: readonly BatchItem[], options: BatchStreamOptions): BatchStream {
  checkOptions(options);
  const epoch = options.epoch ?? 0;
  const seed = options.seed ?? 0;
  const size = options.inputSize;
  const decodeOptions: DecodeOptions = { ...options.decode, size };
  const order = epochOrder(items.length, options);
  const slices: number[][] = [];
  for (let start = 0; start < order.length; start += options.batchSize) {
    const slice = order.slice(start, start + options.batchSize);
    if (options.dropLast && slice.length < options.batchSize) break;
    slices.push(slice);
  }
  const semaphore = createSemaphore(options.decodeConcurrency ?? 4);
  const prefetch = Math.max(1, options.prefetch ?? 2);

  const loadImage = async (itemIndex: number): Promise<Uint8Array | undefined> => {
    const item = items[itemIndex];
    try {
      const key = options.cache ? decodeCacheKey(item.path, decodeOptions) : '';
      let pixels = options.cache?.get(key);
      if (!pixels) {
        pixels = (await semaphore.run(() => decodeImageRgb8(item.path, decodeOptions))).data;
        options.cache?.set(key, pixels);
      }
      if (options.augment) {
        // One stream per (seed, epoch, file): the result depends neither on which decode finished first
        // nor on the item's position, so a run resumed mid-epoch augments each image as the first run did.
        pixels = augmentRgb8(
          pixels,
          size,
          options.augment,
          createRandom(deriveSeed(seed, 'augment', epoch, item.relativePath ?? item.path)),
        );
      }
      return pixels;
    } catch (error) {
      options.onSkip?.({ path: item.path, error: imageFailureInfo(error, item.path) });
      return undefined;
    }
  };

  const buildBatch = async (index: number): Promise<Batch> => {
    const slice = slices[index];
    const images = await Promise.all(slice.map(loadImage));
    const kept = slice.flatMap((itemIndex, k) =>
      images[k] ? [{ itemIndex, pixels: images[k] as Uint8Array }] : [],
    );
    const perImage = size * size * 3;
    const x = new Float32Array(kept.length * perImage);
    const labels = new Int32Array(kept.length);
    kept.forEach(({ itemIndex, pixels }, k) => {
      normaliseRgb8(pixels, options, x, k * perImage);
      labels[k] = items[itemIndex].classIndex;
    });
    return {
      x,
      labels,
      paths: kept.map(({ itemIndex }) => items[itemIndex].path),
      size: kept.length,
      index,
      epoch,
    };
  };

  async function* run(): AsyncGenerator<Batch> {
    const pending: Promise<Batch>[] = [];
    let next = 0;
    const fill = (): void => {
      while (pending.length < prefetch && next < slices.length) pending.push(buildBatch(next++));
    };
    fill();
    while (pending.length > 0) {
      const batch = await (pending.shift() as Promise<Batch>);
      fill(); // start the next batch before handing this one over
      if (batch.size > 0) yield batch;
    }
  }

  return Object.assign(run(), { batchCount: slices.length });
}

function checkOptions(options: BatchStreamOptions): void {
  const positiveInteger = (name: string, value: number | undefined): void => {
    if (value !== undefined && !(Number.isInteger(value) && value >= 1)) {
      throw new RangeError(`Expected ${name} to be a positive integer, got ${value}`);
    }
  };
  positiveInteger('batchSize', options.batchSize);
  positiveInteger('inputSize', options.inputSize);
  positiveInteger('prefetch', options.prefetch);
  positiveInteger('decodeConcurrency', options.decodeConcurrency);
}
