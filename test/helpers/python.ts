// Finds Debian's /usr/bin/python3 with the modules a test needs; tests that need it skip with the
// printed reason when it is missing (CI installs python3-torch, python3-torchvision and python3-onnx).
import { spawnSync } from 'node:child_process';

export const DEBIAN_PYTHON = '/usr/bin/python3';

/** Returns null when the modules import, else a reason to print with the skip. */
export function pythonMissing(modules: string[]): string | null {
  const r = spawnSync(DEBIAN_PYTHON, ['-c', `import ${modules.join(', ')}`], { encoding: 'utf8' });
  if (r.error) return `${DEBIAN_PYTHON} not found (${r.error.message})`;
  if (r.status !== 0)
    return `${DEBIAN_PYTHON} lacks ${modules.join(', ')}: apt-get install ${modules.map((m) => `python3-${m}`).join(' ')}`;
  return null;
}

export function runPython(args: string[], timeoutMs = 120_000): string {
  const r = spawnSync(DEBIAN_PYTHON, args, {
    encoding: 'utf8',
    timeout: timeoutMs,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) throw new Error(`python3 ${args[0]} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}
