// `attnvgg classify merge OUT SHARD_DIR...`: joins the results folders of the shards of one array job
// into one result set in input order. Input i is in shard i mod N, so the next row always comes from
// one known shard and only one row per shard is held. Refused, saying what is wrong, unless every shard
// is finished, made with the same model file (SHA-256), the same row settings and the same input, given
// once, and together they hold every input number exactly once. Heat-maps stay in the shard folders:
// the merged rows point to them. Must not import electron or anything from main/electron, main/backend, main/server,
// main/cli or renderer.
import { access, mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { relativeSlashes } from './collect-files.js';
import { STDIN_LIST, readFileList } from './file-list.js';
import {
  RESULTS_JSONL,
  ResultWriter,
  SKIPPED_LISTED,
  SUMMARY_JSON,
  readRows,
  readSummary,
  writeSummary,
  type ResultsSummary,
} from './result-files.js';
import { modelDifference, settingsDifference } from './results-match.js';
import { RESULTS_CSV, withTiming, type ImageResult, type SkippedEntry } from './results.js';
import { shardLabel } from './shard.js';

export class MergeError extends Error {
  override name = 'MergeError';
}

export interface MergeOutcome {
  outDir: string;
  rowsPath: string;
  csvPath: string;
  summaryPath: string;
  summary: ResultsSummary;
}

interface ShardFolder {
  dir: string;
  summary: ResultsSummary;
}

/** Missing input numbers listed in an error at most. */
const NAMED = 10;

async function readShard(dir: string): Promise<ShardFolder> {
  const summary = await readSummary(dir).catch((e: unknown) => {
    throw new MergeError((e as Error).message);
  });
  if (!summary)
    throw new MergeError(`${dir} has no ${SUMMARY_JSON}: it is not a results folder of attnvgg classify.`);
  if (!summary.complete)
    throw new MergeError(
      `${dir} is not finished (stopped, killed or still running): run its shard again with --resume, then merge.`,
    );
  return { dir, summary };
}

function sameInput(a: ResultsSummary['input'], b: ResultsSummary['input']): boolean {
  if (a.kind !== b.kind) return false;
  if (a.listSha256 && b.listSha256) return a.listSha256 === b.listSha256;
  return JSON.stringify(a.sources) === JSON.stringify(b.sources);
}

/** Checks the shards against each other; returns them by shard number (0 .. N-1). */
function checkShards(shards: readonly ShardFolder[]): ShardFolder[] {
  const [first] = shards;
  const count = first.summary.input.shard?.count ?? 1;
  const byIndex: (ShardFolder | undefined)[] = new Array<ShardFolder | undefined>(count);
  for (const s of shards) {
    const { input } = s.summary;
    const what = `${first.dir} and ${s.dir}`;
    const differs =
      modelDifference(first.summary.model, s.summary.model, `in ${first.dir}`, `in ${s.dir}`) ??
      settingsDifference(first.summary.settings, s.summary.settings, `in ${first.dir}`, `in ${s.dir}`);
    if (differs) throw new MergeError(`${what} were not made the same way: ${differs}.`);
    if (!sameInput(first.summary.input, input))
      throw new MergeError(
        `${what} classified different inputs (${first.summary.input.sources.join(' ')} and ${input.sources.join(' ')}).`,
      );
    const shard = input.shard ?? { index: 0, count: 1 };
    if (shard.count !== count)
      throw new MergeError(
        `${first.dir} is shard ${shardLabel(first.summary.input.shard)} and ${s.dir} is shard ${shardLabel(input.shard)}: shards of different splits overlap. Merge the shards of one split.`,
      );
    const taken = byIndex[shard.index];
    if (taken)
      throw new MergeError(
        `Shard ${shard.index}/${count} is given twice (${taken.dir} and ${s.dir}): they overlap. Give each shard once.`,
      );
    byIndex[shard.index] = s;
  }
  const missing = Array.from(byIndex, (s, k) => (s ? null : `${k}/${count}`)).filter((m) => m !== null);
  if (missing.length > 0)
    throw new MergeError(
      `Shard${missing.length > 1 ? 's' : ''} ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} missing: give the results folder of every shard (${count} in all).`,
    );
  return byIndex as ShardFolder[];
}

/** "input 4 (line 5 of list.txt: a/b.jpg)" for missing input numbers, naming the files when the list can be read. */
async function nameMissing(missing: readonly number[], input: ResultsSummary['input']): Promise<string> {
  const names = new Map<number, string>();
  const [list] = input.sources;
  if (
    input.kind === 'list' &&
    list !== STDIN_LIST &&
    (await access(list).then(
      () => true,
      () => false,
    ))
  ) {
    const wanted = new Set(missing);
    let i = 0;
    for await (const entry of readFileList(list).entries) {
      if (wanted.has(i) && entry.kind === 'file') names.set(i, entry.file.file);
      if (++i > missing[missing.length - 1]) break;
    }
  }
  return missing.map((i) => (names.has(i) ? `input ${i} (${names.get(i)})` : `input ${i}`)).join(', ');
}

/** A row of a shard with its heat-map paths made relative to the merged folder. */
function movedRow(row: ImageResult, shardDir: string, out: string): ImageResult {
  const moved = (p: string): string => relativeSlashes(out, join(shardDir, ...p.split('/')));
  return {
    ...row,
    ...(row.overlay ? { overlay: moved(row.overlay) } : {}),
    ...(row.maps ? { maps: row.maps.map(moved) } : {}),
  };
}

/** Merges the shard folders `shardDirs` into `outDir` (which must hold no results yet). */
export async function mergeShards(outDir: string, shardDirs: readonly string[]): Promise<MergeOutcome> {
  if (shardDirs.length === 0) throw new MergeError('Give the results folders of the shards to merge.');
  const out = resolve(outDir);
  const dirs = shardDirs.map((d) => resolve(d));
  if (dirs.includes(out)) throw new MergeError(`${out} is one of the shards: merge into another folder.`);
  for (const name of [SUMMARY_JSON, RESULTS_JSONL])
    if (
      await access(join(out, name)).then(
        () => true,
        () => false,
      )
    )
      throw new MergeError(`${out} already holds results (${name}): merge into a new or empty folder.`);
  const shards = checkShards(await Promise.all(dirs.map(readShard)));
  const count = shards.length;
  const first = shards[0].summary;
  await mkdir(out, { recursive: true });
  const writer = await ResultWriter.create(out, first.settings.topK, true);
  const readers = shards.map((s) => readRows(join(s.dir, RESULTS_JSONL)));
  const heads: (ImageResult | null)[] = [];
  let live = 0; // shards with rows left
  const advance = async (k: number): Promise<void> => {
    const previous = heads[k] ?? null;
    const next = await readers[k].next();
    const row = next.done ? null : next.value;
    if (row && row.index % count !== k)
      throw new MergeError(
        `${shards[k].dir} holds input ${row.index} (${row.file}), which is not in its shard ${k}/${count}.`,
      );
    if (row && previous && row.index <= previous.index)
      throw new MergeError(
        `Input ${row.index} (${row.file}) is doubled in ${shards[k].dir}: classify that shard again.`,
      );
    live += (row ? 1 : 0) - (previous ? 1 : 0);
    heads[k] = row;
  };
  let pending: ImageResult[] = [];
  const missing: number[] = [];
  let missingCount = 0;
  let index = 0;
  try {
    for (let k = 0; k < count; k++) await advance(k);
    const total = shards.reduce<number | null>((t, s) => t ?? s.summary.input.total, null);
    for (; live > 0 || (total !== null && index < total); index++) {
      const k = index % count;
      const head = heads[k];
      if (head === null || head.index > index) {
        if (missingCount++ < NAMED) missing.push(index);
        continue;
      }
      pending.push(movedRow(head, shards[k].dir, out));
      if (pending.length >= 1024) {
        await writer.append(pending);
        pending = [];
      }
      await advance(k);
    }
    await writer.append(pending);
    if (missingCount > 0)
      throw new MergeError(
        `${missingCount} input${missingCount > 1 ? 's have' : ' has'} no result in any shard: ${await nameMissing(missing, first.input)}${missingCount > NAMED ? ', ...' : ''}. Was a shard run with --limit, or on another input? Run it again without --limit (--resume keeps its rows).`,
      );
    await writer.finish();
  } catch (error) {
    await writer.discard();
    throw error;
  } finally {
    await Promise.all(readers.map((r) => r.return(undefined)));
  }
  const skipped = new Map<string, SkippedEntry>();
  for (const s of shards)
    for (const e of s.summary.skipped) if (skipped.size < SKIPPED_LISTED) skipped.set(e.file, e);
  const seconds = Math.max(...shards.map((s) => s.summary.summary.seconds));
  const summary: ResultsSummary = {
    format: first.format,
    model: first.model,
    settings: first.settings,
    input: { ...first.input, shard: null, limit: null, total: index },
    startedAt: shards.map((s) => s.summary.startedAt).sort()[0],
    updatedAt: new Date().toISOString(),
    complete: true,
    summary: {
      ...withTiming(writer.counts, seconds, 0),
      imagesPerSecond: shards.reduce((sum, s) => sum + s.summary.summary.imagesPerSecond, 0),
    },
    skipped: [...skipped.values()],
    skippedCount: Math.max(...shards.map((s) => s.summary.skippedCount)),
    mergedFrom: shards.map((s) => s.dir),
  };
  await writeSummary(out, summary);
  return {
    outDir: out,
    rowsPath: join(out, RESULTS_JSONL),
    csvPath: join(out, RESULTS_CSV),
    summaryPath: join(out, SUMMARY_JSON),
    summary,
  };
}
