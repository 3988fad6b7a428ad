// Starts test/reliability/serve-child.ts (browser mode in a process of its own), optionally under a low
// `ulimit -n` and with extra Node flags, and talks to it: its first line (port and token), then one
// command per call, answered by one JSON line. Test code only.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('../reliability/serve-child.ts', import.meta.url));

export interface ServeChild {
  port: number;
  token: string;
  process: ChildProcess;
  /** Whether the process is still running. */
  alive(): boolean;
  command<T extends object>(line: string): Promise<T>;
  stop(): Promise<void>;
}

export async function startServeChild(
  staticDir: string,
  workspaceDir: string,
  options: { openFiles?: number; nodeFlags?: string[] } = {},
): Promise<ServeChild> {
  const node = [
    process.execPath,
    ...(options.nodeFlags ?? []),
    '--import',
    'tsx',
    CHILD,
    staticDir,
    workspaceDir,
  ];
  const child =
    options.openFiles === undefined
      ? spawn(node[0] as string, node.slice(1), { stdio: ['pipe', 'pipe', 'inherit'] })
      : spawn('bash', ['-c', `ulimit -n ${options.openFiles} && exec "$@"`, 'serve-child', ...node], {
          stdio: ['pipe', 'pipe', 'inherit'],
        });
  let exited = false;
  child.once('exit', () => (exited = true));
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })[Symbol.asyncIterator]();
  const next = async <T>(): Promise<T> => {
    const { value, done } = await lines.next();
    if (done) throw new Error(`the server process ended (exit code ${child.exitCode})`);
    return JSON.parse(value as string) as T;
  };
  const first = await next<{ port: number; token: string }>();
  return {
    ...first,
    process: child,
    alive: () => !exited,
    async command<T extends object>(line: string): Promise<T> {
      child.stdin?.write(`${line}\n`);
      return next<T>();
    },
    async stop() {
      if (exited) return;
      const done = new Promise((resolve) => child.once('exit', resolve));
      child.stdin?.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await done;
      clearTimeout(timer);
    },
  };
}
