// Where the feature cache (feature-cache.ts) keeps its values: one entry per (image, view) slot, in half
// precision or float32, in memory up to a limit and beyond it in files in a fresh sub-folder of the
// workspace's spill folder (with a size limit, written atomically, removed by dispose). Must not import
// electron or anything from main/electron, main/backend, main/server, main/cli or renderer.

import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../storage/atomic-write.js';
import { FeatureCacheError } from './feature-cache-error.js';
import type { FeaturePrecision } from '../../../models/core/cached-features.js';
import { toHalf } from '../../../models/core/half-float.js';

/** How cached values are stored: half precision, or float32 (exact, twice the memory and disk). */
export type FeatureCachePrecision = FeaturePrecision;

/** An entry as stored: half-precision bits, or float32. */
export type StoredFeatures = Uint16Array | Float32Array;

export interface FeatureStoreLimits {
  precision: FeatureCachePrecision;
  memoryLimit: number;
  /** Workspace folder for spilled entries; none: nothing is spilled. */
  spillDir: string | undefined;
  diskLimit: number;
}

export function formatGiB(n: number): string {
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

export class FeatureStore {
  private readonly memory: (StoredFeatures | undefined)[] = [];
  private readonly files: (string | undefined)[] = [];
  private memoryUsed = 0;
  private diskUsed = 0;
  private spillFolder: string | undefined;

  constructor(private readonly limits: FeatureStoreLimits) {}

  get precision(): FeatureCachePrecision {
    return this.limits.precision;
  }

  get memoryBytes(): number {
    return this.memoryUsed;
  }

  get diskBytes(): number {
    return this.diskUsed;
  }

  /** Stores a copy of `values` as entry `slot`: in memory while it fits, else in a file. */
  async put(slot: number, values: Float32Array): Promise<void> {
    const { precision, memoryLimit, spillDir, diskLimit } = this.limits;
    const data: StoredFeatures = precision === 'float16' ? toHalf(values) : values.slice();
    if (this.memoryUsed + data.byteLength <= memoryLimit) {
      this.memory[slot] = data;
      this.memoryUsed += data.byteLength;
      return;
    }
    if (!spillDir || this.diskUsed + data.byteLength > diskLimit)
      throw new FeatureCacheError(
        `The feature cache is full (${formatGiB(this.memoryUsed)} in memory, ${formatGiB(this.diskUsed)} on disk, ${precision}).`,
      );
    const file = join(await this.spillTo(spillDir), `${slot}.${precision === 'float16' ? 'f16' : 'f32'}`);
    await writeFileAtomic(file, new Uint8Array(data.buffer, data.byteOffset, data.byteLength), {
      durable: false,
    });
    this.files[slot] = file;
    this.diskUsed += data.byteLength;
  }

  /** Entry `slot` as stored. */
  async get(slot: number): Promise<StoredFeatures> {
    const m = this.memory[slot];
    if (m) return m;
    const file = this.files[slot];
    if (!file) throw new FeatureCacheError(`No cached features for entry ${slot}.`);
    const bytes = await readFile(file);
    const copy = new Uint8Array(bytes); // aligned
    return this.limits.precision === 'float16' ? new Uint16Array(copy.buffer) : new Float32Array(copy.buffer);
  }

  /** Deletes the spilled files (when the cache could not be built). */
  async removeSpilled(): Promise<void> {
    if (this.spillFolder) await rm(this.spillFolder, { recursive: true, force: true });
  }

  /** Frees memory and deletes the spilled files. */
  async dispose(): Promise<void> {
    this.memory.length = 0;
    this.files.length = 0;
    await this.removeSpilled();
  }

  /** The fresh folder spilled entries go into, made on first use. */
  private async spillTo(spillDir: string): Promise<string> {
    if (!this.spillFolder) {
      await mkdir(spillDir, { recursive: true });
      this.spillFolder = await mkdtemp(join(spillDir, 'features-'));
    }
    return this.spillFolder;
  }
}
