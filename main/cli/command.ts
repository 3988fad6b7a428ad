// The shape of one `attnvgg` sub-command and the exit codes all commands share.
// Must not import electron or anything from main/electron, main/server or renderer.

export const EXIT = {
  ok: 0,
  /** The command ran and failed (training diverged, a file could not be written, ...). */
  failed: 1,
  /** The command line was wrong: unknown command or option, missing argument. */
  usage: 2,
  /** The input cannot be used: not a dataset, not a run folder, not a model file. */
  badInput: 3,
  /** Stopped by Ctrl-C; work was saved where the command supports it (training resumes). */
  interrupted: 130,
} as const;

export interface CommandContext {
  /** Arguments after the command name. */
  argv: string[];
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream;
  /** Print stack traces (--debug). */
  debug: boolean;
}

export interface Command {
  name: string;
  summary: string;
  /** Full help text shown by `attnvgg <name> --help`. */
  help: string;
  run(context: CommandContext): Promise<number>;
}

/** An error whose message is meant for the user as is, with the exit code to use. */
export class UserError extends Error {
  override name = 'UserError';
  constructor(
    message: string,
    readonly exitCode: number = EXIT.badInput,
  ) {
    super(message);
  }
}
