// Browser mode in a process of its own, for tests that must watch it survive (or measure it): serves
// <staticDir> and the API of <workspaceDir>, prints `{"port","token"}` as one JSON line, then obeys
// commands on stdin, one per line, answering each with one JSON line:
//   exhaust  opens /dev/null until the file-descriptor table is full (EMFILE), keeping the handles, and
//            keeps taking any descriptor freed meanwhile (other threads open and close files)
//   release  closes them again
//   memory   runs gc() (start with --expose-gc) and reports rss, its peak since start and heapUsed
//   rebase   restarts the peak from the current rss
//   node --import tsx test/reliability/serve-child.ts <staticDir> <workspaceDir>
// Test code only.
import { open, readFile, writeFile, type FileHandle } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { serveBrowserMode } from '../../main/server/index.js';

const [staticDir, workspaceDir] = process.argv.slice(2);
if (!staticDir || !workspaceDir) throw new Error('usage: serve-child.ts <staticDir> <workspaceDir>');

const print = (line: object): void => {
  process.stdout.write(`${JSON.stringify(line)}\n`);
};

// The peak RSS: Linux's high-water mark (VmHWM, reset by writing 5 to clear_refs) where it exists, and a
// 10 ms sampler as well (the larger of the two is reported).
let peakRss = process.memoryUsage().rss;
setInterval(() => {
  try {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  } catch {
    // Reading /proc needs a file descriptor: none while the table is full (exhaust).
  }
}, 10).unref();
async function kernelPeakRss(): Promise<number> {
  const status = await readFile('/proc/self/status', 'utf8').catch(() => '');
  const kb = /^VmHWM:\s+(\d+) kB/m.exec(status)?.[1];
  return kb ? Number(kb) * 1024 : 0;
}

const mode = await serveBrowserMode({ staticDir, workspaceDir });
print({ port: mode.server.port, token: mode.server.token });

const held: FileHandle[] = [];
let holding = false;

/** Takes descriptors until EMFILE; returns the error code that stopped it. */
async function takeAll(): Promise<string> {
  for (;;) {
    try {
      held.push(await open('/dev/null', 'r'));
    } catch (error) {
      return (error as NodeJS.ErrnoException).code ?? 'unknown';
    }
  }
}

async function keepTaking(): Promise<void> {
  while (holding) {
    await takeAll();
    await new Promise((resolve) => setImmediate(resolve));
  }
}
for await (const line of createInterface({ input: process.stdin })) {
  const command = line.trim();
  if (command === 'exhaust') {
    const code = await takeAll();
    holding = true;
    void keepTaking();
    print({ exhausted: held.length, code });
  } else if (command === 'release') {
    holding = false;
    await Promise.all(held.splice(0).map((h) => h.close()));
    print({ released: true });
  } else if (command === 'memory') {
    (globalThis as { gc?: () => void }).gc?.();
    const { rss, heapUsed } = process.memoryUsage();
    peakRss = Math.max(peakRss, rss, await kernelPeakRss());
    print({ rss, peakRss, heapUsed });
  } else if (command === 'rebase') {
    await writeFile('/proc/self/clear_refs', '5').catch(() => undefined);
    peakRss = process.memoryUsage().rss;
    print({ rebased: peakRss });
  }
}
await mode.close();
