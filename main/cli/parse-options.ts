// Thin typed wrappers over node:util parseArgs: unknown options are usage errors with the valid list,
// numbers are checked. Must not import electron or anything from main/electron, main/server or renderer.

import { parseArgs, type ParseArgsConfig } from 'node:util';
import { EXIT, UserError } from './command.js';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export interface ParsedOptions {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

export function parseOptions(argv: string[], options: OptionSpec, help: string): ParsedOptions {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
    return { values: values as ParsedOptions['values'], positionals };
  } catch (error) {
    throw new UserError(`${(error as Error).message}\n\n${help}`, EXIT.usage);
  }
}

export function numberOption(
  values: ParsedOptions['values'],
  name: string,
  { integer = false, min = -Infinity } = {},
): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min)
    throw new UserError(
      `--${name} expects ${integer ? 'an integer' : 'a number'}${min > -Infinity ? ` >= ${min}` : ''}, got "${String(raw)}"`,
      EXIT.usage,
    );
  return n;
}

export function stringOption(values: ParsedOptions['values'], name: string): string | undefined {
  const raw = values[name];
  return typeof raw === 'string' ? raw : undefined;
}

export function choiceOption<T extends string>(
  values: ParsedOptions['values'],
  name: string,
  choices: readonly T[],
): T | undefined {
  const raw = stringOption(values, name);
  if (raw === undefined) return undefined;
  if (!choices.includes(raw as T))
    throw new UserError(
      `Unsupported --${name} "${raw}". Should be one of: ${choices.join(', ')}`,
      EXIT.usage,
    );
  return raw as T;
}
