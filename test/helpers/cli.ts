// Runs the attnvgg command line in this process, as a test sees it: the exit code and everything it wrote
// to stdout and stderr.
import { PassThrough } from 'node:stream';
import { runCli } from '../../main/cli/main.js';

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

/** `attnvgg ...argv`, with its output captured. */
export async function cli(...argv: string[]): Promise<CliResult> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d) => (out += String(d)));
  stderr.on('data', (d) => (err += String(d)));
  const code = await runCli(argv, { stdout, stderr });
  return { code, out, err };
}
