// API handlers for pretrained backbones: list them, add a file the user picked (checked in a task worker,
// since reading and parsing a 528 MB ONNX file must not stall the server), download one into the
// workspace cache with progress events (one download at a time, cancellable; what arrived is kept so the
// next download of that URL resumes), and remove one. Must not import electron or renderer.
import { ApiError, type ApiHandlers, type BackboneDownloadEvent } from '../../api/index.js';
import { BackboneError } from '../../services/backbone/load-backbone.js';
import type { BackboneReport } from '../../services/backbone/load-backbone.js';
import {
  BackboneDownloadError,
  defaultBackboneSource,
  downloadBackbone,
} from '../../services/backbone/download.js';
import { runTask, TaskError } from '../../services/jobs/index.js';
import type { BackendContext } from '../backend-context.js';

type BackboneHandlers = Pick<
  ApiHandlers,
  'backbones.list' | 'backbones.add' | 'backbones.download' | 'backbones.cancelDownload' | 'backbones.remove'
>;

/** Progress events at most this often while bytes arrive. */
const PROGRESS_INTERVAL_MS = 250;

const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;

/** An error of the backbone services as the API error the UI shows; anything else is passed on. */
function asApiError(error: unknown): unknown {
  // A TaskError is the check worker's own message: the file could not be read at all.
  if (error instanceof BackboneError || error instanceof BackboneDownloadError || error instanceof TaskError)
    return new ApiError('bad-request', error.message);
  return error;
}

export function backboneHandlers(context: BackendContext): BackboneHandlers {
  const { backbones } = context;
  let download: { controller: AbortController; url: string } | null = null;

  const check = async (file: string): Promise<BackboneReport> => {
    const outcome = await runTask({ kind: 'check-backbone', file }, undefined, context.createTaskWorker).done;
    if (outcome.type !== 'backbone-checked')
      throw new ApiError('failed', 'The backbone check gave an unexpected answer.');
    return outcome.report;
  };

  const announce = (event: BackboneDownloadEvent) => context.emit({ type: 'backbone-download', event });

  return {
    'backbones.list': async () => {
      const source = defaultBackboneSource();
      return {
        folder: backbones.folder,
        backbones: await backbones.list().catch((e: unknown) => {
          throw asApiError(e);
        }),
        ...(source ? { defaultSource: source } : {}),
        downloading: download !== null,
      };
    },

    'backbones.add': async ({ path }) => {
      try {
        return await backbones.addFile(path, check);
      } catch (error) {
        throw asApiError(error);
      }
    },

    'backbones.download': async ({ url, sha256 }) => {
      if (download)
        throw new ApiError(
          'conflict',
          `A backbone is being downloaded from ${download.url} now: wait for it or cancel it first.`,
        );
      const controller = new AbortController();
      download = { controller, url };
      let last = { received: 0, total: undefined as number | undefined, resumedFrom: 0 };
      let lastSent = 0;
      try {
        const got = await downloadBackbone(sha256 ? { url, sha256 } : { url }, {
          workspace: context.workspace.root,
          signal: controller.signal,
          onProgress: (p) => {
            last = { received: p.received, total: p.total, resumedFrom: p.resumedFrom };
            const now = Date.now();
            if (p.phase === 'download' && now - lastSent < PROGRESS_INTERVAL_MS && p.received !== p.total)
              return;
            lastSent = now;
            announce({
              stage: p.phase,
              url,
              ...last,
              message:
                p.phase === 'verify'
                  ? 'Checking the SHA-256 of the downloaded file…'
                  : `Downloading: ${mib(p.received)}${p.total ? ` of ${mib(p.total)}` : ''}${p.resumedFrom > 0 ? ` (resumed at ${mib(p.resumedFrom)})` : ''}`,
            });
          },
        });
        announce({ stage: 'check', url, ...last, message: 'Checking that the file is a VGG16_bn backbone…' });
        const entry = await backbones.addDownload(got, url, check);
        announce({
          stage: 'finished',
          url,
          ...last,
          received: got.bytes,
          message: got.cached
            ? `${entry.name} was already downloaded (SHA-256 matches); it is ready.`
            : `Downloaded ${entry.name} (${mib(got.bytes)})${got.verified ? ', SHA-256 verified' : ', no checksum given to verify'}.`,
        });
        return entry;
      } catch (error) {
        const cancelled = controller.signal.aborted;
        const message = cancelled
          ? `The download was cancelled; the ${mib(last.received)} that arrived are kept, and downloading the same URL again resumes from there.`
          : `The download failed: ${(error as Error).message}`;
        announce({ stage: cancelled ? 'cancelled' : 'failed', url, ...last, message });
        if (cancelled) throw new ApiError('failed', message);
        throw asApiError(error);
      } finally {
        download = null;
      }
    },

    'backbones.cancelDownload': async () => {
      if (!download) return { cancelled: false };
      download.controller.abort(new Error('cancelled'));
      return { cancelled: true };
    },

    'backbones.remove': async ({ id }) => {
      try {
        return { removed: await backbones.remove(id) };
      } catch (error) {
        throw asApiError(error);
      }
    },
  };
}
