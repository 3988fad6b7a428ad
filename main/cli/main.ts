// The `attnvgg` command line: dispatches to one sub-command, turns errors into plain messages and exit
// codes (stack traces only with --debug). Must not import electron or anything from main/electron,
// main/server or renderer.

import { APP_VERSION } from '../services/app-version.js';
import { EXIT, type Command, type CommandContext } from './command.js';
import { backboneCommand } from './commands/backbone.js';
import { benchCommand } from './commands/bench.js';
import { classifyCommand } from './commands/classify.js';
import { compareCommand } from './commands/compare.js';
import { dataCommand } from './commands/data.js';
import { demoCommand } from './commands/demo.js';
import { evalCommand } from './commands/eval.js';
import { exportCommand } from './commands/export.js';
import { infoCommand } from './commands/info.js';
import { resumeCommand } from './commands/resume.js';
import { scanCommand } from './commands/scan.js';
import { serveCommand } from './commands/serve.js';
import { trainCommand } from './commands/train.js';
import { exitCodeFor } from './exit-codes.js';

export const COMMANDS: Command[] = [
  scanCommand,
  trainCommand,
  resumeCommand,
  evalCommand,
  exportCommand,
  classifyCommand,
  compareCommand,
  demoCommand,
  dataCommand,
  infoCommand,
  benchCommand,
  backboneCommand,
  serveCommand,
];

export function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `attnvgg ${APP_VERSION}: train and run attention-VGG16_bn image classifiers on your own folders.

Usage: attnvgg <command> [options]     (attnvgg <command> --help for its options)

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

Exit codes: 0 success, 1 failed, 2 wrong usage, 3 unusable input, 130 interrupted (work saved).
Environment: ATTNVGG_BACKEND=tensorflow|wasm|cpu forces the training backend.`;
}

export async function runCli(
  argv: string[],
  io: Pick<CommandContext, 'stdout' | 'stderr'> = process,
): Promise<number> {
  const debug = argv.includes('--debug');
  const args = argv.filter((a) => a !== '--debug');
  const [name, ...rest] = args;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(`${usage()}\n`);
    return name ? EXIT.ok : EXIT.usage;
  }
  if (name === '--version' || name === '-v') {
    io.stdout.write(`${APP_VERSION}\n`);
    return EXIT.ok;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.stderr.write(
      `Unknown command "${name}". Should be one of: ${COMMANDS.map((c) => c.name).join(', ')}\n`,
    );
    return EXIT.usage;
  }
  try {
    return await command.run({ argv: rest, stdout: io.stdout, stderr: io.stderr, debug });
  } catch (error) {
    const e = error as Error;
    io.stderr.write(`attnvgg ${name}: ${e.message}\n`);
    if (debug && e.stack) io.stderr.write(`${e.stack}\n`);
    return exitCodeFor(error);
  }
}

// Run when executed directly (not when imported by tests).
const entry = process.argv[1] ?? '';
if (/[\\/](main\.(ts|js)|attnvgg(\.mjs)?)$/.test(entry)) {
  runCli(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`${String(error)}\n`);
      process.exitCode = EXIT.failed;
    },
  );
}
