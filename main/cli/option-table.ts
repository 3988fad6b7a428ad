// A command's options as one table: each row gives what node:util parseArgs needs and the help text, so
// the parser's spec and the help are generated from the same rows and cannot disagree. A command that
// shares another's options (compare and demo share train's) picks rows by name instead of editing help
// text. Must not import electron or anything from main/electron or renderer.

import type { OptionSpec } from './parse-options.js';

export interface OptionRow {
  /** The long name, without the dashes. */
  name: string;
  short?: string;
  type: 'string' | 'boolean';
  /** What the value is, as the help shows it (N, DIR, NAME); none for a flag. */
  value?: string;
  /** The help text: one line, or lines that continue under the first. */
  help: string | readonly string[];
}

/** The column the help text starts at, after "  --name, -x VALUE". */
const HELP_COLUMN = 25;

/** parseArgs's spec for `rows`. */
export function optionSpec(rows: readonly OptionRow[]): OptionSpec {
  return Object.fromEntries(
    rows.map((r) => [r.name, r.short ? { type: r.type, short: r.short } : { type: r.type }]),
  ) as OptionSpec;
}

/** The help lines of `rows`, aligned, in the table's order. */
export function optionHelp(rows: readonly OptionRow[]): string {
  return rows
    .map((r) => {
      const flag = `  --${r.name}${r.short ? `, -${r.short}` : ''}${r.value ? ` ${r.value}` : ''}`;
      const [first, ...rest] = typeof r.help === 'string' ? [r.help] : r.help;
      const head = flag.length < HELP_COLUMN - 1 ? flag.padEnd(HELP_COLUMN) : `${flag} `;
      return [`${head}${first}`, ...rest.map((line) => `${' '.repeat(HELP_COLUMN)}${line}`)].join('\n');
    })
    .join('\n');
}

/** The rows of `rows` except those named. */
export function withoutOptions(rows: readonly OptionRow[], ...names: string[]): OptionRow[] {
  return rows.filter((r) => !names.includes(r.name));
}
