// Runs one measurement in a child process (so its peak memory and crashes are its own) and reads the
// last JSON line it printed. Shared by the benchmark scripts.
import { spawn } from 'node:child_process';

export interface Captured {
  code: number | null;
  stdout: string;
}

/** stderr is passed through; `timeoutMs` (default none) kills a child that hangs. */
export function runCaptured(command: string, argv: string[], timeoutMs?: number): Promise<Captured> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'inherit'], timeout: timeoutMs });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout }));
  });
}

export function lastJson(stdout: string): Record<string, unknown> | undefined {
  const line = stdout
    .trim()
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{'));
  return line === undefined ? undefined : (JSON.parse(line) as Record<string, unknown>);
}
