// Builds the app's pages on demand for `attnvgg serve` in a development checkout whose renderer has not
// been built yet (right after `npm ci`): the same `npm run build:renderer` with the same message as
// `npm start`. An installed app without the sources and Vite gets RENDERER_MISSING instead.
// Must not import electron or anything from main/electron or renderer.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BUILDING_PAGES_MESSAGE = 'Building the app pages (vite) ...';

/** The project root when it holds the renderer's sources and Vite, or null (an installed app). */
export function sourceCheckoutRoot(moduleUrl: string = import.meta.url): string | null {
  // main/cli/*.ts sits two levels below the root, dist/main/cli/*.js three.
  for (const up of ['../../', '../../../']) {
    const root = fileURLToPath(new URL(up, moduleUrl));
    if (
      existsSync(join(root, 'vite.config.ts')) &&
      existsSync(join(root, 'renderer', 'src', 'main.ts')) &&
      existsSync(join(root, 'node_modules', 'vite', 'package.json'))
    )
      return root;
  }
  return null;
}

/** Runs the renderer's build in `root`, its output on this process's; true when it succeeded. */
export function buildRendererPages(root: string, stdout: NodeJS.WritableStream): boolean {
  stdout.write(`${BUILDING_PAGES_MESSAGE}\n`);
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const result = spawnSync(npm, ['run', '--silent', 'build:renderer', '--', '--logLevel', 'warn'], {
    cwd: root,
    stdio: ['ignore', 'inherit', 'inherit'],
    shell: process.platform === 'win32',
  });
  return result.status === 0;
}
