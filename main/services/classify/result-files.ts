// How a results folder stores a classification that may hold millions of rows: results.jsonl (one JSON
// row per file, appended batch by batch in input order, never rewritten while a run goes on),
// results.csv beside it (the same rows for spreadsheets), and summary.json (model with its SHA-256,
// settings, input and shard, counts; small, rewritten atomically). Rows are read back one at a time; a
// last line cut short by a killed run is left out. A resumed run streams the earlier rows into
// results.jsonl.next (kept or replaced, still in input order) and renames it over results.jsonl at its
// end; one killed before that is put back together when resumed again. Must not import electron or
// anything from main/electron, main/backend, main/server, main/cli or renderer.
import { createReadStream } from 'node:fs';
import { open, readFile, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { writeJsonAtomic } from '../storage/atomic-write.js';
import type { InputRecord } from './input-source.js';
import {
  RESULTS_CSV,
  RESULTS_FORMAT,
  ResultsError,
  countRow,
  csvHeader,
  csvLine,
  emptySummary,
  readResults,
  type ClassifyResults,
  type ClassifySettings,
  type ClassifySummary,
  type ImageResult,
  type SkippedEntry,
} from './results.js';

export const RESULTS_JSONL = 'results.jsonl';
export const SUMMARY_JSON = 'summary.json';
export const SUMMARY_FORMAT = 'attnvgg-classify-summary/1';
/** Suffix of the files a resumed run writes before they replace the earlier ones. */
const NEXT = '.next';
/** Skipped entries (hidden files, OS junk) listed in full in the summary; the rest are only counted. */
export const SKIPPED_LISTED = 1000;

export interface ResultsSummary {
  format: typeof SUMMARY_FORMAT;
  model: { path: string; modelId: string; sha256: string; classes: string[] };
  settings: ClassifySettings;
  input: InputRecord;
  startedAt: string;
  updatedAt: string;
  /** False while the run goes on or when it was stopped: --resume continues it. */
  complete: boolean;
  summary: ClassifySummary;
  skipped: SkippedEntry[];
  skippedCount: number;
  /** Set by `classify merge`: the shard folders it joined, in shard order. */
  mergedFrom?: string[];
}

function parseRow(line: string): ImageResult {
  const row = JSON.parse(line) as ImageResult;
  if (typeof row !== 'object' || row === null || !Number.isInteger(row.index) || typeof row.path !== 'string')
    throw new Error('not a result row');
  return row;
}

/**
 * The rows of a results.jsonl one at a time. A damaged line is a ResultsError naming it, except the last
 * line, which a killed run may have cut short: it is left out (its file is classified again on resume).
 */
export async function* readRows(path: string): AsyncGenerator<ImageResult> {
  let input;
  try {
    await stat(path);
    input = createReadStream(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new ResultsError(`The results ${path} cannot be read (${(e as Error).message}).`);
  }
  const lines = createInterface({ input, crlfDelay: Infinity });
  let pending: { text: string; number: number } | null = null;
  let number = 0;
  try {
    for await (const text of lines) {
      number++;
      if (pending) {
        try {
          yield parseRow(pending.text);
        } catch (e) {
          if (e instanceof SyntaxError || (e as Error).message === 'not a result row')
            throw new ResultsError(
              `Line ${pending.number} of ${path} is not a result row: the file is damaged. Classify into another folder, or remove the line.`,
            );
          throw e;
        }
      }
      pending = text.trim() === '' ? null : { text, number };
    }
    if (pending) {
      let last: ImageResult | null = null;
      try {
        last = parseRow(pending.text);
      } catch {
        // cut short by a killed run
      }
      if (last) yield last;
    }
  } finally {
    lines.close();
    input.destroy();
  }
}

/** summary.json of `outDir`, or null when there is none. Throws ResultsError when it is damaged. */
export async function readSummary(outDir: string): Promise<ResultsSummary | null> {
  const path = join(outDir, SUMMARY_JSON);
  let text;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new ResultsError(`The summary ${path} cannot be read (${(e as Error).message}).`);
  }
  try {
    const summary = JSON.parse(text) as ResultsSummary;
    if (summary.format !== SUMMARY_FORMAT) throw new Error('format');
    return summary;
  } catch {
    throw new ResultsError(`The summary ${path} is damaged or of an unknown format.`);
  }
}

export async function writeSummary(outDir: string, summary: ResultsSummary): Promise<void> {
  await writeJsonAtomic(join(outDir, SUMMARY_JSON), summary);
}

/**
 * The whole result set of `outDir` in memory, in the shape of results.json (attnvgg-classify/1): for the
 * app, whose classifications are of folders a person browses, and for the export. Folders written by
 * earlier versions (results.json only) are read as they are. Null when the folder has no results.
 */
export async function loadResults(outDir: string): Promise<ClassifyResults | null> {
  const summary = await readSummary(outDir);
  if (!summary) return readResults(outDir);
  const results: ImageResult[] = [];
  for await (const row of readRows(join(outDir, RESULTS_JSONL))) results.push(row);
  return {
    format: RESULTS_FORMAT,
    model: { path: summary.model.path, modelId: summary.model.modelId, classes: summary.model.classes },
    settings: summary.settings,
    startedAt: summary.startedAt,
    updatedAt: summary.updatedAt,
    complete: summary.complete,
    summary: summary.summary,
    skipped: summary.skipped,
    results,
  };
}

/** Appends rows to results.jsonl and results.csv (or their .next files), counting them as it goes. */
export class ResultWriter {
  readonly counts: ClassifySummary = emptySummary();
  private constructor(
    private readonly outDir: string,
    private readonly topK: number,
    private readonly jsonl: FileHandle,
    private readonly csv: FileHandle,
    private readonly suffix: string,
  ) {}

  /**
   * Starts the results files of `outDir` afresh, or (`staged`: a resumed run, a merge) .next files that
   * replace them at finish().
   */
  static async create(outDir: string, topK: number, staged: boolean): Promise<ResultWriter> {
    const suffix = staged ? NEXT : '';
    if (!staged) await removeNextFiles(outDir);
    const jsonl = await open(join(outDir, RESULTS_JSONL + suffix), 'w');
    const csv = await open(join(outDir, RESULTS_CSV + suffix), 'w').catch(async (e: unknown) => {
      await jsonl.close();
      throw e;
    });
    await csv.write(csvHeader(topK));
    return new ResultWriter(outDir, topK, jsonl, csv, suffix);
  }

  /** Appends `rows` (in input order) with one write per file. */
  async append(rows: readonly ImageResult[]): Promise<void> {
    if (rows.length === 0) return;
    let lines = '';
    let csv = '';
    for (const r of rows) {
      lines += `${JSON.stringify(r)}\n`;
      csv += csvLine(r, this.topK);
      countRow(this.counts, r);
    }
    await this.jsonl.write(lines);
    await this.csv.write(csv);
  }

  /** Flushes what was appended to the disk (before the summary says how far the run got). */
  async sync(): Promise<void> {
    await this.jsonl.sync();
    await this.csv.sync();
  }

  /** Closes the files; a resumed run's .next files replace the earlier ones. */
  async finish(): Promise<void> {
    await this.sync();
    await this.close();
    if (this.suffix === '') return;
    await rename(join(this.outDir, RESULTS_CSV + NEXT), join(this.outDir, RESULTS_CSV));
    await rename(join(this.outDir, RESULTS_JSONL + NEXT), join(this.outDir, RESULTS_JSONL));
  }

  /** Closes the files and removes staged ones (a merge that was refused half-way). */
  async discard(): Promise<void> {
    await this.close();
    if (this.suffix !== '') await removeNextFiles(this.outDir);
  }

  /** Closes the files as they are (after an error: a resumed run's .next files are recovered later). */
  async close(): Promise<void> {
    await Promise.allSettled([this.jsonl.close(), this.csv.close()]);
  }
}

async function removeNextFiles(outDir: string): Promise<void> {
  await rm(join(outDir, RESULTS_JSONL + NEXT), { force: true });
  await rm(join(outDir, RESULTS_CSV + NEXT), { force: true });
}

/**
 * Puts back together a results folder whose resumed run was killed before its end: the rows it wrote
 * (results.jsonl.next, input order), then the earlier rows after the last of them. Does nothing when
 * there is no .next file.
 */
export async function recoverInterruptedResume(outDir: string, topK: number): Promise<void> {
  const next = join(outDir, RESULTS_JSONL + NEXT);
  if (!(await stat(next).catch(() => null))) return;
  const partial = join(outDir, `${RESULTS_JSONL}.recovering`);
  const partialCsv = join(outDir, `${RESULTS_CSV}.recovering`);
  const jsonl = await open(partial, 'w');
  const csv = await open(partialCsv, 'w');
  try {
    await csv.write(csvHeader(topK));
    let last = -1;
    const copy = async (r: ImageResult): Promise<void> => {
      await jsonl.write(`${JSON.stringify(r)}\n`);
      await csv.write(csvLine(r, topK));
    };
    for await (const r of readRows(next)) {
      await copy(r);
      last = r.index;
    }
    for await (const r of readRows(join(outDir, RESULTS_JSONL))) if (r.index > last) await copy(r);
    await jsonl.sync();
    await csv.sync();
  } finally {
    await Promise.allSettled([jsonl.close(), csv.close()]);
  }
  await rename(partialCsv, join(outDir, RESULTS_CSV));
  await rename(partial, join(outDir, RESULTS_JSONL));
  await removeNextFiles(outDir);
}

/**
 * The earlier rows of a results folder, read in step with the input of a resumed run: both are in input
 * order, so only the row at hand is held.
 */
export class EarlierRows {
  private readonly rows: AsyncGenerator<ImageResult>;
  private head: ImageResult | null = null;
  private ended = false;

  constructor(outDir: string) {
    this.rows = readRows(join(outDir, RESULTS_JSONL));
  }

  private async peek(): Promise<ImageResult | null> {
    if (this.head === null && !this.ended) {
      const next = await this.rows.next();
      if (next.done) this.ended = true;
      else this.head = next.value;
    }
    return this.head;
  }

  /**
   * The earlier row of input `index` (null when there is none), and the earlier rows before it that this
   * run's input no longer has (kept as they were, in order).
   */
  async upTo(index: number): Promise<{ before: ImageResult[]; row: ImageResult | null }> {
    const before: ImageResult[] = [];
    for (let head = await this.peek(); head !== null && head.index <= index; head = await this.peek()) {
      this.head = null;
      if (head.index === index) return { before, row: head };
      before.push(head);
    }
    return { before, row: null };
  }

  /** Up to `max` earlier rows after the last asked for (kept as they were). */
  async more(max: number): Promise<ImageResult[]> {
    const rows: ImageResult[] = [];
    for (let head = await this.peek(); head !== null && rows.length < max; head = await this.peek()) {
      this.head = null;
      rows.push(head);
    }
    return rows;
  }

  async close(): Promise<void> {
    await this.rows.return(undefined);
  }
}
