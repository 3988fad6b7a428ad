// What one classification reads: the folders and files given (collect-files.ts) or a `--files-from` list
// (file-list.ts), numbered in input order, kept to this process's shard (shard.ts) and to `--limit`,
// streamed one item at a time. Every result row carries its input number, which is what `classify
// merge` puts back in order. Hidden files and OS junk take no number: they are skipped, as before.
// Must not import electron or anything from main/electron, main/backend, main/server, main/cli or renderer.
import type { Readable } from 'node:stream';
import { streamInputFiles, type InputEntry, type InputFile, type InputProblem } from './collect-files.js';
import { readFileList } from './file-list.js';
import { inShard, shardSize, type Shard } from './shard.js';

export interface InputSpec {
  /** Folders (walked) and files, as given on the command line. */
  paths?: readonly string[];
  /** `--files-from`: a text file of paths, or '-' for standard input. Used instead of `paths`. */
  list?: string;
  /** Standard input for list '-' (default process.stdin). */
  stdin?: Readable;
}

export type NumberedInput =
  | { kind: 'file'; index: number; file: InputFile }
  /** Something that is a row of its own from the start (an unreadable folder, a broken link). */
  | { kind: 'problem'; index: number; problem: InputProblem }
  /** Left out on purpose (hidden, OS junk, a folder reached twice): no number, no row. */
  | { kind: 'skipped'; problem: InputProblem };

/** What a results folder records of its input, so shards of one job can be checked against each other. */
export interface InputRecord {
  kind: 'paths' | 'list';
  sources: string[];
  shard: Shard | null;
  limit: number | null;
  /** Numbered inputs of all shards together, once the whole input has been read (null until then). */
  total: number | null;
  /** SHA-256 of the list (list inputs read to the end; null otherwise). */
  listSha256: string | null;
}

export interface InputStream {
  /** This shard's items (and the skipped ones), at most `limit` numbered ones. */
  items: AsyncGenerator<NumberedInput>;
  /** The record, with total and listSha256 filled in once `items` has read the whole input. */
  record(): InputRecord;
}

function entriesOf(
  spec: InputSpec,
  exclude: readonly string[],
): {
  entries: AsyncGenerator<InputEntry>;
  sha256: () => string | null;
} {
  if (spec.list !== undefined) return readFileList(spec.list, spec.stdin);
  return { entries: streamInputFiles(spec.paths ?? [], exclude), sha256: () => null };
}

/** Opens the input for one run. `exclude`: output folders never walked into. */
export function openInputs(
  spec: InputSpec,
  exclude: readonly string[],
  shard: Shard | null,
  limit: number | null,
): InputStream {
  const { entries, sha256 } = entriesOf(spec, exclude);
  let total: number | null = null;
  async function* items(): AsyncGenerator<NumberedInput> {
    let index = 0;
    let taken = 0;
    for await (const entry of entries) {
      if (entry.kind === 'problem' && entry.problem.ignorable) {
        yield { kind: 'skipped', problem: entry.problem };
        continue;
      }
      const i = index++;
      if (!inShard(i, shard)) continue;
      if (limit !== null && taken >= limit) return; // stopped early: the total stays unknown
      taken++;
      yield entry.kind === 'file'
        ? { kind: 'file', index: i, file: entry.file }
        : { kind: 'problem', index: i, problem: entry.problem };
    }
    total = index;
  }
  return {
    items: items(),
    record: () => ({
      kind: spec.list !== undefined ? 'list' : 'paths',
      sources: spec.list !== undefined ? [spec.list] : [...(spec.paths ?? [])],
      shard,
      limit,
      total,
      listSha256: sha256(),
    }),
  };
}

export interface InputPlan {
  /** Numbered inputs of all shards together. */
  total: number;
  /** Hidden files and OS junk left out. */
  skipped: number;
  /** Inputs per shard (one entry without sharding), `limit` applied. */
  shards: { shard: number; files: number }[];
  listSha256: string | null;
}

/**
 * Reads the whole input once, counting (never holding) its items: the shard sizes `--plan` prints and
 * the total a progress bar needs.
 */
export async function planInputs(
  spec: InputSpec,
  exclude: readonly string[],
  shardCount: number,
  limit: number | null,
): Promise<InputPlan> {
  const { entries, sha256 } = entriesOf(spec, exclude);
  let total = 0;
  let skipped = 0;
  for await (const entry of entries) {
    if (entry.kind === 'problem' && entry.problem.ignorable) skipped++;
    else total++;
  }
  const shards = Array.from({ length: shardCount }, (_, k) => ({
    shard: k,
    files: shardSize(total, k, shardCount, limit),
  }));
  return { total, skipped, shards, listSha256: sha256() };
}
