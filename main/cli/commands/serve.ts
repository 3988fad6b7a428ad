// `attnvgg serve`: the app in browser mode. Builds the app's pages first when a development checkout has
// not built them (build-renderer.ts), starts the API and the UI on 127.0.0.1 with a new access token,
// prints the full address (the token in its fragment) on a line of its own, and on Ctrl-C pauses any
// training with a checkpoint before exiting. Must not import electron or anything from main/electron or renderer.
import { resolve } from 'node:path';
import { defaultWorkspaceDir } from '../../backend/index.js';
import { findRendererDir, RENDERER_MISSING, serveBrowserMode } from '../../server/index.js';
import { buildRendererPages, sourceCheckoutRoot } from '../build-renderer.js';
import { EXIT, UserError, type Command } from '../command.js';
import { numberOption, parseOptions, stringOption } from '../parse-options.js';

export const serveCommand: Command = {
  name: 'serve',
  summary: 'start the app in browser mode on 127.0.0.1 and print its address',
  help: `Usage: attnvgg serve [--port N] [--workspace DIR]

Serves the app's pages and API on 127.0.0.1 only (never other machines), protected by a random access
token made at each start. Open the printed address (it includes the token) in a browser on this machine.
In a development checkout whose pages are not built yet, builds them first (as \`npm start\` does).

  --port N           the port (default: any free one)
  --workspace DIR    the workspace folder: datasets.json, runs/, models/ (default: ${defaultWorkspaceDir()})

Ctrl-C stops the server; a training run in progress pauses with a checkpoint and can be resumed later.`,
  async run(context) {
    const { values } = parseOptions(
      context.argv,
      { port: { type: 'string' }, workspace: { type: 'string' } },
      this.help,
    );
    if (values.help) {
      context.stdout.write(`${this.help}\n`);
      return EXIT.ok;
    }
    const port = numberOption(values, 'port', { integer: true, min: 0 });
    if (port !== undefined && port > 65535) throw new UserError('--port must be at most 65535', EXIT.usage);
    const workspace = stringOption(values, 'workspace');
    if (!findRendererDir()) {
      const root = sourceCheckoutRoot();
      if (!root) throw new UserError(RENDERER_MISSING, EXIT.failed);
      if (!buildRendererPages(root, context.stdout) || !findRendererDir())
        throw new UserError(
          `The build of the app's pages failed (see above). ${RENDERER_MISSING}`,
          EXIT.failed,
        );
    }
    const mode = await serveBrowserMode({
      ...(port !== undefined ? { port } : {}),
      workspaceDir: workspace ? resolve(workspace) : defaultWorkspaceDir(),
    });
    context.stdout.write(
      `Attention VGG is running in browser mode. Open this address in a browser on this machine:\n${mode.server.openUrl}\nWorkspace: ${mode.backend.workspace.root}\nPress Ctrl-C to stop.\n`,
    );
    await new Promise<void>((done) => {
      const stop = (): void => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        context.stdout.write('Stopping (a training run pauses with a checkpoint) ...\n');
        void mode.close().finally(done);
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    return EXIT.ok;
  },
};
