// `--shard K/N`: which inputs one process of an array job classifies. Input number i (the line of a file
// list, blank lines left out, or the position in the stable walk of the folders) belongs to shard
// i mod N, so every machine computes the same split from the same input while reading it once, holding
// nothing but a counter. K counts from 0, as Slurm's $SLURM_ARRAY_TASK_ID (with --array=0-<N-1>) and
// Kubernetes' $JOB_COMPLETION_INDEX do. Must not import electron or anything from main/electron,
// main/backend, main/server, main/cli or renderer.

export interface Shard {
  /** This process's shard, 0 .. count - 1. */
  index: number;
  count: number;
}

export class ShardError extends Error {
  override name = 'ShardError';
}

/** Parses "K/N" (e.g. "0/3"). */
export function parseShard(text: string): Shard {
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!match)
    throw new ShardError(
      `--shard expects K/N (this process's shard K of N, K from 0 to N-1, e.g. 0/3), got "${text}".`,
    );
  const index = Number(match[1]);
  const count = Number(match[2]);
  if (count < 1) throw new ShardError(`--shard ${text}: the number of shards must be at least 1.`);
  if (index >= count)
    throw new ShardError(
      `--shard ${text}: K counts from 0, so it must be less than ${count} (an array of ${count} tasks is 0-${count - 1}).`,
    );
  return { index, count };
}

export function shardLabel(shard: Shard | null): string {
  return shard ? `${shard.index}/${shard.count}` : 'all';
}

/** True when input number `index` belongs to `shard` (every input does without sharding). */
export function inShard(index: number, shard: Shard | null): boolean {
  return shard === null || index % shard.count === shard.index;
}

/** Inputs that shard `k` of `count` gets out of `total` numbered inputs, at most `limit` of them. */
export function shardSize(total: number, k: number, count: number, limit: number | null): number {
  const size = total > k ? Math.ceil((total - k) / count) : 0;
  return limit === null ? size : Math.min(size, limit);
}
