// Reads `--files-from`: a text file of picture paths, one per line, or standard input ('-'), one line at
// a time (millions of lines are never held). Blank lines are left out and take no index; '\r\n' line
// ends are accepted; a relative path is taken from the current folder. Each path gets an output key for
// its heat-map files (the path without its root or '..' steps). The SHA-256 of the list (its non-blank
// lines, each with '\n') is known once it has been read to the end, so shards of one list can be told
// apart from shards of another. Must not import electron or anything from main/electron, main/backend, main/server,
// main/cli or renderer.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { InputError, type InputEntry } from './collect-files.js';

export const STDIN_LIST = '-';

export interface FileListReader {
  entries: AsyncGenerator<InputEntry>;
  /** The list's SHA-256 once `entries` has been read to its end; null before. */
  sha256(): string | null;
}

/** The output key of a listed path: '/' separators, no root, no '.' or '..' steps. */
export function listedKey(line: string): string {
  const parts = line
    .split(/[\\/]+/)
    .filter((p) => p !== '' && p !== '.')
    .map((p) => (p === '..' ? '__' : p.replace(/:/g, '_')));
  return parts.join('/') || 'file';
}

/** Streams the paths of the list at `source` ('-': `stdin`). */
export function readFileList(source: string, stdin: Readable = process.stdin): FileListReader {
  const hash = createHash('sha256');
  let digest: string | null = null;
  async function* entries(): AsyncGenerator<InputEntry> {
    const input = source === STDIN_LIST ? stdin : createReadStream(source);
    const lines = createInterface({ input, crlfDelay: Infinity });
    try {
      for await (const raw of lines) {
        const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
        if (line.trim() === '') continue;
        hash.update(`${line}\n`);
        yield { kind: 'file', file: { file: line, path: resolve(line), key: listedKey(line) } };
      }
      digest = hash.digest('hex');
    } catch (error) {
      throw new InputError(
        `The list ${source === STDIN_LIST ? '(standard input)' : source} could not be read (${(error as Error).message}).`,
      );
    } finally {
      lines.close();
      if (input !== stdin) input.destroy();
    }
  }
  return { entries: entries(), sha256: () => digest };
}
