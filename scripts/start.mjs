#!/usr/bin/env node
// `npm start`: the desktop window when the Electron binary is installed (`npm run setup:native` fetches
// it), otherwise the same app in browser mode, whose address is printed. Builds what each needs first:
// the renderer always, the compiled main process for Electron. Extra arguments go to the app
// (e.g. `npm start -- --workspace DIR`, and `--port N` in browser mode). Plain Node, no project imports.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const args = process.argv.slice(2);

function electronBinary() {
  try {
    const path = createRequire(join(root, 'package.json'))('electron');
    return typeof path === 'string' && existsSync(path) ? path : null;
  } catch {
    return null;
  }
}

function run(command, commandArgs) {
  const result = spawnSync(command, commandArgs, {
    cwd: root,
    stdio: 'inherit',
    shell: process.platform === 'win32',
  });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
console.log('Building the app pages (vite) ...');
run(npm, ['run', '--silent', 'build:renderer', '--', '--logLevel', 'warn']);

const electron = electronBinary();
let child;
if (electron) {
  console.log('Building the main process (tsc) ...');
  run(npm, ['run', '--silent', 'build']);
  child = spawn(electron, ['.', ...args], { cwd: root, stdio: 'inherit' });
} else {
  console.log(
    'The Electron binary is not installed (`npm run setup:native` fetches it where the network allows), so the app starts in browser mode.',
  );
  child = spawn(process.execPath, [join(root, 'scripts', 'attnvgg.mjs'), 'serve', ...args], {
    cwd: root,
    stdio: 'inherit',
  });
}
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code) => process.exit(code ?? 0));
