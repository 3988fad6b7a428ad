// Groups the numbered inputs of a classification (input-source.ts) into units, in input order: each
// holds up to one batch of files to classify and the rows that are ready without the model (a folder
// that could not be read, a file already classified by an earlier run that --resume keeps because its
// size and modification time are unchanged). A unit's rows are written together once its batch is
// done, so results.jsonl stays in input order while only a few units are held. Must not import electron
// or anything from main/electron, main/backend, main/server, main/cli or renderer.
import { stat } from 'node:fs/promises';
import type { InputFile, InputProblem } from './collect-files.js';
import type { NumberedInput } from './input-source.js';
import { SKIPPED_LISTED, type EarlierRows } from './result-files.js';
import type { ImageResult, SkippedEntry } from './results.js';

/** Rows held in one unit at most (resumed rows come by without a batch to wait for). */
const UNIT_ROWS = 4096;

export interface IndexedFile extends InputFile {
  index: number;
}

export type Slot = { row: ImageResult } | { todo: IndexedFile };

export interface Unit {
  slots: Slot[];
  /** The files of `slots` to classify, in order (at most one batch). */
  todo: IndexedFile[];
}

/** Counted while the units are made. */
export interface UnitTally {
  /** Rows kept from the earlier run. */
  resumed: number;
  /** Left out on purpose (the first SKIPPED_LISTED), and how many there were. */
  skipped: SkippedEntry[];
  skippedCount: number;
}

export function problemRow(index: number, p: InputProblem): ImageResult {
  return {
    index,
    file: p.file,
    path: p.path,
    status: 'failed',
    label: null,
    uncertain: false,
    top: [],
    ms: 0,
    error: { reason: p.reason, message: p.message },
    bytes: -1,
    mtimeMs: -1,
  };
}

/** True when `row`, made by an earlier run, is still the result of `file`. */
async function stillValid(row: ImageResult, file: InputFile): Promise<boolean> {
  if (row.path !== file.path || row.bytes < 0) return false; // another file now, or failed unopened
  const s = await stat(file.path).catch(() => null);
  return s !== null && s.size === row.bytes && s.mtimeMs === row.mtimeMs;
}

/**
 * The units of `items`, `batchSize` files to classify at most in each. With `earlier`, its rows are
 * taken in step: kept when still valid, and the ones this input no longer has are kept at their place.
 */
export async function* batchUnits(
  items: AsyncIterable<NumberedInput>,
  earlier: EarlierRows | null,
  batchSize: number,
  tally: UnitTally,
): AsyncGenerator<Unit> {
  let unit: Unit = { slots: [], todo: [] };
  const full = (): boolean => unit.todo.length >= batchSize || unit.slots.length >= UNIT_ROWS;
  for await (const item of items) {
    if (item.kind === 'skipped') {
      const { file, reason, message } = item.problem;
      if (tally.skippedCount++ < SKIPPED_LISTED) tally.skipped.push({ file, reason, message });
      continue;
    }
    let kept: ImageResult | null = null;
    if (earlier) {
      const { before, row } = await earlier.upTo(item.index);
      for (const r of before) unit.slots.push({ row: r });
      kept = row;
    }
    if (item.kind === 'problem') unit.slots.push({ row: problemRow(item.index, item.problem) });
    else if (kept && (await stillValid(kept, item.file))) {
      unit.slots.push({ row: kept });
      tally.resumed++;
    } else {
      const todo = { ...item.file, index: item.index };
      unit.slots.push({ todo });
      unit.todo.push(todo);
    }
    if (full()) {
      yield unit;
      unit = { slots: [], todo: [] };
    }
  }
  // Earlier rows after this input's last: kept as they were.
  for (let rows = earlier ? await earlier.more(UNIT_ROWS) : []; rows.length > 0;) {
    for (const r of rows) unit.slots.push({ row: r });
    yield unit;
    unit = { slots: [], todo: [] };
    rows = earlier ? await earlier.more(UNIT_ROWS) : [];
  }
  if (unit.slots.length > 0) yield unit;
}
