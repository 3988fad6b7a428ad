#!/usr/bin/env node
// `npm run setup:native`: the explicit step that fetches what `npm ci` skips because .npmrc turns
// install scripts off: the Electron binary and, when asked, libtensorflow for @tensorflow/tfjs-node
// (or the GPU package) and onnxruntime-node's CUDA 12 provider. Plain Node ESM with no dependencies; imports nothing from the project.
// Every step says what it does and, on failure, what still works; a step that fails does not stop
// the next one. Exit code 0 when every requested step worked, 1 otherwise, 2 for a bad command line.

import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const DEFAULT_TIMEOUT_MINUTES = 10;

const HELP = `Usage: npm run setup:native -- [options]
       node scripts/setup-native.mjs [options]

Fetches the native pieces that \`npm ci\` leaves out (install scripts are off in .npmrc, so that
\`npm ci\` succeeds on machines that reach only the npm registry):

  Electron binary   always, when the electron package is installed: runs node_modules/electron/install.js
                    (downloads from GitHub; ELECTRON_MIRROR and the other @electron/get variables apply).
  --tensorflow      libtensorflow and the native addon of @tensorflow/tfjs-node: runs that package's
                    own install script (downloads from storage.googleapis.com; TFJS_NODE_CDN_STORAGE or
                    TFJS_NODE_BASE_URI point it at a mirror). Makes the native \`tensorflow\` backend
                    available: check with \`attnvgg info\`.
  --gpu             the same for @tensorflow/tfjs-node-gpu (CUDA 11.2 and cuDNN 8.1 on Linux), which
                    is first installed with \`npm install --no-save\` at the version of tfjs-core
                    (run this again after each \`npm ci\`, which removes it).
  --onnxruntime-cuda
                    onnxruntime-node's CUDA 12 (and TensorRT) provider files, Linux x64 only: runs that
                    package's own install step with --onnxruntime-node-install=cuda12 (downloads from
                    NuGet's host, which the project's CI and GPU machines cannot reach). Needs the CUDA 12
                    and cuDNN 9 runtime libraries; then \`attnvgg info\` lists cuda and --device cuda runs
                    on the NVIDIA GPU. Not needed for WebGPU, which ships in the npm package.
  --no-electron     skip the Electron step.
  --timeout MIN     give up on a step after MIN minutes (default ${DEFAULT_TIMEOUT_MINUTES}); no step can hang forever.
  --root DIR        the project folder (default: the one holding this script).
  --help            this text.

Without these pieces the app still works: the browser mode (\`npm start\`) needs no Electron binary,
and training falls back to the wasm backend without libtensorflow.
Exit code: 0 when every requested step worked, 1 when one failed, 2 for a bad command line.`;

// ---------------------------------------------------------------------------------------------
// Command line

function parseCommandLine(argv) {
  const options = {
    electron: true,
    tensorflow: false,
    gpu: false,
    onnxruntimeCuda: false,
    timeoutMinutes: DEFAULT_TIMEOUT_MINUTES,
    root: path.dirname(path.dirname(fileURLToPath(import.meta.url))),
    help: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') options.help = true;
    else if (arg === '--tensorflow') options.tensorflow = true;
    else if (arg === '--gpu') options.gpu = true;
    else if (arg === '--onnxruntime-cuda') options.onnxruntimeCuda = true;
    else if (arg === '--no-electron') options.electron = false;
    else if (arg === '--timeout' || arg === '--root') {
      const value = argv[++i];
      if (value === undefined) throw new Error(`${arg} needs a value`);
      if (arg === '--root') options.root = path.resolve(value);
      else {
        options.timeoutMinutes = Number(value);
        if (!(options.timeoutMinutes > 0))
          throw new Error(`--timeout must be a number of minutes, got ${value}`);
      }
    } else
      throw new Error(
        `Unknown option "${arg}". Should be one of: --tensorflow, --gpu, --onnxruntime-cuda, --no-electron, --timeout, --root, --help`,
      );
  }
  return options;
}

// ---------------------------------------------------------------------------------------------
// Running a child with a time limit

let running; // the child process of the current step, killed on Ctrl-C

/** Kills the child and everything it started (it leads its own process group off Windows). */
function killTree(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  if (process.platform === 'win32') {
    spawn('taskkill', ['/pid', String(child.pid), '/T', '/F'], { stdio: 'ignore' });
    return;
  }
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    return;
  }
  setTimeout(() => {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }, 5000).unref();
}

/**
 * Runs a command with inherited output and a time limit; resolves to
 * { ok, code, signal, timedOut, error } and never rejects.
 */
function runStep(command, args, { cwd, env, timeoutMinutes, shell = false }) {
  const shown = shell ? command : [command, ...args].join(' ');
  console.log(`  $ ${shown}   (in ${cwd}; gives up after ${timeoutMinutes} min)`);
  return new Promise((resolve) => {
    let child;
    try {
      child = spawn(command, args, {
        cwd,
        env,
        shell,
        stdio: 'inherit',
        detached: process.platform !== 'win32',
      });
    } catch (error) {
      resolve({ ok: false, code: null, signal: null, timedOut: false, error });
      return;
    }
    running = child;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killTree(child);
    }, timeoutMinutes * 60_000);
    let settled = false;
    const finish = (result) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      running = undefined;
      resolve(result);
    };
    child.on('error', (error) => finish({ ok: false, code: null, signal: null, timedOut, error }));
    child.on('exit', (code, signal) => finish({ ok: code === 0 && !timedOut, code, signal, timedOut }));
  });
}

function describeFailure(result, timeoutMinutes) {
  if (result.timedOut) return `stopped after ${timeoutMinutes} min without finishing`;
  if (result.error) return result.error.message;
  if (result.signal) return `killed by ${result.signal}`;
  return `exit code ${result.code}`;
}

process.on('SIGINT', () => {
  if (running) killTree(running);
  console.error('\nInterrupted.');
  process.exit(130);
});

// ---------------------------------------------------------------------------------------------
// Helpers

function readJson(file) {
  return JSON.parse(readFileSync(file, 'utf8'));
}

function packageDir(root, name) {
  const dir = path.join(root, 'node_modules', ...name.split('/'));
  return existsSync(path.join(dir, 'package.json')) ? dir : undefined;
}

/** PATH with the node running this script and the packages' .bin folders first (as npm does). */
function childEnv(root, dir) {
  const bins = [path.dirname(process.execPath), path.join(root, 'node_modules', '.bin')];
  if (dir) bins.push(path.join(dir, 'node_modules', '.bin'));
  const key = Object.keys(process.env).find((k) => k.toUpperCase() === 'PATH') ?? 'PATH';
  return { ...process.env, [key]: [...bins, process.env[key] ?? ''].join(path.delimiter) };
}

function heading(text) {
  console.log(`\n== ${text}`);
}

// ---------------------------------------------------------------------------------------------
// Steps: each returns 'ok', 'skipped' or 'failed'.

async function setupElectron(options) {
  heading('Electron binary');
  const dir = packageDir(options.root, 'electron');
  if (dir === undefined) {
    console.log(
      '  The electron package is not installed (it is a development dependency: `npm ci` without\n' +
        '  --omit=dev installs it). Nothing to fetch. The browser mode runs without it: npm start',
    );
    return 'skipped';
  }
  const { version } = readJson(path.join(dir, 'package.json'));
  if (process.env.ELECTRON_SKIP_BINARY_DOWNLOAD) {
    console.log('  Note: ELECTRON_SKIP_BINARY_DOWNLOAD is set, so electron/install.js will not download.');
  }
  console.log(`  Fetching the Electron ${version} binary with electron/install.js.`);
  const result = await runStep(process.execPath, ['install.js'], {
    cwd: dir,
    env: childEnv(options.root, dir),
    timeoutMinutes: options.timeoutMinutes,
  });
  const pathFile = path.join(dir, 'path.txt');
  const binary = existsSync(pathFile) ? path.join(dir, 'dist', readFileSync(pathFile, 'utf8').trim()) : '';
  if (result.ok && binary && existsSync(binary)) {
    console.log(`  OK: ${binary}`);
    return 'ok';
  }
  const why = result.ok
    ? 'install.js finished but no binary is in node_modules/electron/dist'
    : describeFailure(result, options.timeoutMinutes);
  console.error(
    `  Could not download the Electron binary (network unreachable?): ${why}.\n` +
      '  The app still runs in browser mode: npm start',
  );
  return 'failed';
}

/** The installed version of @tensorflow/tfjs-core, which the native package must match. */
function tfjsVersion(root) {
  const core = packageDir(root, '@tensorflow/tfjs-core');
  if (core) return readJson(path.join(core, 'package.json')).version;
  const manifest = readJson(path.join(root, 'package.json'));
  return (
    manifest.optionalDependencies?.['@tensorflow/tfjs-node'] ?? manifest.dependencies?.['@tensorflow/tfjs']
  );
}

async function installGpuPackage(options) {
  const version = tfjsVersion(options.root);
  const spec = version ? `@tensorflow/tfjs-node-gpu@${version}` : '@tensorflow/tfjs-node-gpu';
  console.log(`  Installing ${spec} with npm (no change to package.json; install scripts stay off).`);
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const result = await runStep(npm, ['install', '--no-save', '--ignore-scripts', spec], {
    cwd: options.root,
    env: childEnv(options.root),
    timeoutMinutes: options.timeoutMinutes,
    shell: process.platform === 'win32',
  });
  if (!result.ok) {
    console.error(
      `  Could not install ${spec} from the npm registry: ${describeFailure(result, options.timeoutMinutes)}.`,
    );
    return false;
  }
  return true;
}

/** node-pre-gyp puts the addon at lib/napi-v<N>/tfjs_binding.node. */
function hasAddon(dir) {
  const lib = path.join(dir, 'lib');
  return (
    existsSync(lib) &&
    readdirSync(lib).some((d) => d.startsWith('napi-v') && existsSync(path.join(lib, d, 'tfjs_binding.node')))
  );
}

async function setupTensorflow(options, pkg) {
  heading(`libtensorflow for ${pkg}`);
  if (pkg.endsWith('-gpu') && !(await installGpuPackage(options))) {
    console.error('  Training still runs on the wasm backend.');
    return 'failed';
  }
  const dir = packageDir(options.root, pkg);
  if (dir === undefined) {
    console.error(
      `  ${pkg} is not installed (it is an optional dependency: did \`npm ci\` skip it on this platform?).\n` +
        '  Training still runs on the wasm backend.',
    );
    return 'failed';
  }
  const script = readJson(path.join(dir, 'package.json')).scripts?.install;
  if (!script) {
    console.error(`  ${pkg} has no install script in its package.json; nothing to run.`);
    return 'failed';
  }
  console.log(`  Running ${pkg}'s install script: downloads libtensorflow and the native addon.`);
  const result = await runStep(script, [], {
    cwd: dir,
    env: childEnv(options.root, dir),
    timeoutMinutes: options.timeoutMinutes,
    shell: true,
  });
  if (result.ok && hasAddon(dir)) {
    return (await checkLoads(options, pkg)) ? 'ok' : 'failed';
  }
  const why = result.ok
    ? 'the script finished but left no native addon (lib/napi-v*/tfjs_binding.node)'
    : describeFailure(result, options.timeoutMinutes);
  console.error(
    `  Could not install libtensorflow for ${pkg} (${why}).\n` +
      '  Its download comes from storage.googleapis.com (network unreachable? it has also answered 403,\n' +
      '  tfjs #8742). Training still runs on the wasm backend; `attnvgg info` shows which backend is used.',
  );
  return 'failed';
}

/** Loads the package in a fresh Node process: the addon and libtensorflow must both open. */
async function checkLoads(options, pkg) {
  console.log(`  Checking that ${pkg} loads.`);
  const code = `await import(${JSON.stringify(pkg)}); console.log('  loaded');`;
  const result = await runStep(process.execPath, ['--input-type=module', '-e', code], {
    cwd: options.root,
    env: childEnv(options.root),
    timeoutMinutes: Math.min(options.timeoutMinutes, 2),
  });
  if (result.ok) {
    console.log(`  OK: ${pkg} loads; the \`tensorflow\` backend is available.`);
    return true;
  }
  console.error(
    `  ${pkg} was installed but does not load (${describeFailure(result, options.timeoutMinutes)}).` +
      (pkg.endsWith('-gpu') ? ' It needs CUDA 11.2 and cuDNN 8.1.' : '') +
      '\n  Training still runs on the wasm backend.',
  );
  return false;
}

/** onnxruntime-node's own install step for its CUDA 12 provider (the files beside its binding). */
async function setupOnnxruntimeCuda(options) {
  heading('onnxruntime-node CUDA 12 provider');
  const dir = packageDir(options.root, 'onnxruntime-node');
  if (dir === undefined) {
    console.error('  onnxruntime-node is not installed: run `npm ci` first.');
    return 'failed';
  }
  if (`${process.platform}/${process.arch}` !== 'linux/x64') {
    console.log(
      `  onnxruntime-node has a CUDA provider download for Linux x64 only (this is ${process.platform}/${process.arch}).\n` +
        '  On Windows, --device dml (DirectML) and --device webgpu ship in the package.',
    );
    return 'skipped';
  }
  console.log('  Running onnxruntime-node/script/install.js --onnxruntime-node-install=cuda12.');
  const result = await runStep(process.execPath, ['script/install.js', '--onnxruntime-node-install=cuda12'], {
    cwd: dir,
    env: childEnv(options.root, dir),
    timeoutMinutes: options.timeoutMinutes,
  });
  const bin = path.join(dir, 'bin', 'napi-v6', 'linux', 'x64', 'libonnxruntime_providers_cuda.so');
  if (result.ok && existsSync(bin)) {
    console.log(
      `  OK: ${bin}\n  Check with \`attnvgg info\`: cuda is then listed; train with --device cuda.`,
    );
    return 'ok';
  }
  const why = result.ok
    ? 'the script finished but left no libonnxruntime_providers_cuda.so'
    : describeFailure(result, options.timeoutMinutes);
  console.error(
    `  Could not install the CUDA 12 provider (${why}). Its files come from NuGet's host (network\n` +
      '  unreachable?). Training still runs on the CPU, or on --device webgpu (bundled in the package).',
  );
  return 'failed';
}

// ---------------------------------------------------------------------------------------------

async function main() {
  let options;
  try {
    options = parseCommandLine(process.argv.slice(2));
  } catch (error) {
    console.error(`${error.message}\n\n${HELP}`);
    return 2;
  }
  if (options.help) {
    console.log(HELP);
    return 0;
  }
  if (!existsSync(path.join(options.root, 'package.json'))) {
    console.error(`No package.json in ${options.root}: pass the project folder with --root.`);
    return 2;
  }
  const outcomes = [];
  if (options.electron) outcomes.push(['Electron binary', await setupElectron(options)]);
  if (options.tensorflow)
    outcomes.push(['libtensorflow (tfjs-node)', await setupTensorflow(options, '@tensorflow/tfjs-node')]);
  if (options.gpu)
    outcomes.push([
      'libtensorflow (tfjs-node-gpu)',
      await setupTensorflow(options, '@tensorflow/tfjs-node-gpu'),
    ]);
  if (options.onnxruntimeCuda)
    outcomes.push(["onnxruntime-node's CUDA 12 provider", await setupOnnxruntimeCuda(options)]);
  if (outcomes.length === 0)
    console.log('Nothing requested (--no-electron without --tensorflow, --gpu or --onnxruntime-cuda).');
  heading('Summary');
  for (const [name, outcome] of outcomes) console.log(`  ${outcome.padEnd(7)} ${name}`);
  return outcomes.some(([, outcome]) => outcome === 'failed') ? 1 : 0;
}

process.exitCode = await main();
