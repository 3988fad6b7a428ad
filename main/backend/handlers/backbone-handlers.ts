// API handlers for pretrained backbones: list them with the built-in catalogue of ImageNet weights, add a
// file the user picked (checked in a task worker, since reading and parsing a 528 MB file must not stall
// the server), download a catalogue entry or any address into the workspace cache with progress events
// (one download at a time, cancellable; what arrived is kept so the next download resumes), and remove
// one. Must not import electron or renderer.
import {
  ApiError,
  type ApiHandlers,
  type BackboneDownloadEvent,
  type BackboneEntry,
} from '../../api/index.js';
import { BACKBONE_CATALOGUE } from '../../services/backbone/catalogue.js';
import {
  effectiveCatalogueEntry,
  ensureCatalogueBackbone,
} from '../../services/backbone/catalogue-download.js';
import { BackboneError } from '../../services/backbone/load-backbone.js';
import type { BackboneReport } from '../../services/backbone/load-backbone.js';
import {
  BackboneDownloadError,
  defaultBackboneSource,
  downloadBackbone,
  type CachedBackbone,
  type DownloadOptions,
  type DownloadProgress,
} from '../../services/backbone/download.js';
import { runTask, TaskError } from '../../services/jobs/index.js';
import type { BackendContext } from '../backend-context.js';

type BackboneHandlers = Pick<
  ApiHandlers,
  | 'backbones.list'
  | 'backbones.add'
  | 'backbones.download'
  | 'backbones.downloadCatalogue'
  | 'backbones.cancelDownload'
  | 'backbones.remove'
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

/**
 * The progress events of one download: at most every PROGRESS_INTERVAL_MS while bytes arrive (always
 * the verification and the last bytes), then one saying how it ended.
 */
function downloadReporter(
  url: string,
  catalogueId: string | undefined,
  announce: (event: BackboneDownloadEvent) => void,
) {
  const started = Date.now();
  let last = { received: 0, total: undefined as number | undefined, resumedFrom: 0, bytesPerSecond: 0 };
  let lastSent = 0;
  const ids = catalogueId ? { catalogueId } : {};
  return {
    onProgress(p: DownloadProgress): void {
      const seconds = (Date.now() - started) / 1000;
      last = {
        received: p.received,
        total: p.total,
        resumedFrom: p.resumedFrom,
        bytesPerSecond: seconds > 0 ? Math.round((p.received - p.resumedFrom) / seconds) : 0,
      };
      const now = Date.now();
      if (p.phase === 'download' && now - lastSent < PROGRESS_INTERVAL_MS && p.received !== p.total) return;
      lastSent = now;
      announce({
        stage: p.phase,
        url,
        ...ids,
        ...last,
        message:
          p.phase === 'verify'
            ? 'Checking the SHA-256 of the downloaded file…'
            : `Downloading: ${mib(p.received)}${p.total ? ` of ${mib(p.total)}` : ''}, ${mib(last.bytesPerSecond)}/s${p.resumedFrom > 0 ? ` (resumed at ${mib(p.resumedFrom)})` : ''}`,
      });
    },
    finished(entry: BackboneEntry, got: CachedBackbone | undefined, downloaded: boolean | undefined): void {
      const verified = got ? (got.verified ? ', SHA-256 verified' : ', no checksum given to verify') : '';
      announce({
        stage: 'finished',
        url,
        ...ids,
        ...last,
        received: entry.bytes,
        message: (got ? got.cached : !downloaded)
          ? `${entry.name} was already downloaded; it is ready.`
          : `Downloaded ${entry.name} (${mib(entry.bytes)})${got ? verified : ', checksum verified'}.`,
      });
    },
    /** Announces a failure or a cancellation; returns the message. */
    failed(error: unknown, cancelled: boolean): string {
      const message = cancelled
        ? `The download was cancelled; the ${mib(last.received)} that arrived are kept, and downloading it again resumes from there.`
        : `The download failed: ${(error as Error).message}`;
      announce({ stage: cancelled ? 'cancelled' : 'failed', url, ...ids, ...last, message });
      return message;
    },
  };
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

  /**
   * Runs one download (a catalogue entry or an address) with progress events: one at a time, cancellable.
   * `fetch` downloads (and lists) with the progress callback and signal it is given.
   */
  const runDownload = async (
    url: string,
    catalogueId: string | undefined,
    fetch: (
      options: Omit<DownloadOptions, 'workspace'>,
    ) => Promise<{ entry: BackboneEntry; got?: CachedBackbone; downloaded?: boolean }>,
  ): Promise<BackboneEntry> => {
    if (download)
      throw new ApiError(
        'conflict',
        `A backbone is being downloaded from ${download.url} now: wait for it or cancel it first.`,
      );
    const controller = new AbortController();
    download = { controller, url };
    const report = downloadReporter(url, catalogueId, announce);
    try {
      const { entry, got, downloaded } = await fetch({
        signal: controller.signal,
        onProgress: (p) => report.onProgress(p),
      });
      report.finished(entry, got, downloaded);
      return entry;
    } catch (error) {
      const cancelled = controller.signal.aborted;
      const message = report.failed(error, cancelled);
      if (cancelled) throw new ApiError('failed', message);
      throw asApiError(error);
    } finally {
      download = null;
    }
  };

  return {
    'backbones.list': async () => {
      const source = defaultBackboneSource();
      const listed = await backbones.list().catch((e: unknown) => {
        throw asApiError(e);
      });
      return {
        catalogue: BACKBONE_CATALOGUE.map((e) => {
          const got = listed.find((b) => b.catalogueId === e.id && b.present);
          return { ...e, ...(got ? { backboneId: got.id } : {}) };
        }),
        folder: backbones.folder,
        backbones: listed,
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

    'backbones.download': ({ url, sha256 }) =>
      runDownload(url, undefined, async (options) => {
        const got = await downloadBackbone(sha256 ? { url, sha256 } : { url }, {
          ...options,
          workspace: context.workspace.root,
        });
        announce({
          stage: 'check',
          url,
          received: got.bytes,
          resumedFrom: 0,
          message: 'Checking that the file is a VGG16_bn backbone…',
        });
        return { entry: await backbones.addDownload(got, url, check), got };
      }),

    'backbones.downloadCatalogue': ({ id }) => {
      if (!BACKBONE_CATALOGUE.some((e) => e.id === id))
        throw new ApiError(
          'not-found',
          `"${id}" is not in the catalogue. Should be one of: ${BACKBONE_CATALOGUE.map((e) => e.id).join(', ')}.`,
        );
      return runDownload(effectiveCatalogueEntry(id).url, id, async (options) => {
        const { entry, downloaded } = await ensureCatalogueBackbone(id, backbones, check, {
          ...options,
          workspace: context.workspace.root,
        });
        return { entry, downloaded };
      });
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
