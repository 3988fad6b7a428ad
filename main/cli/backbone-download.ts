// What `attnvgg backbone download <id>` and `attnvgg train --backbone <id>` share: a catalogue entry
// fetched into the workspace (if not there yet) with progress and speed on stderr (or JSON lines on
// stdout), Ctrl-C stopping it so the next run resumes.
// Must not import electron or anything from main/electron, main/server or renderer.

import { BackboneLibrary } from '../services/backbone/backbone-library.js';
import { catalogueEntry } from '../services/backbone/catalogue.js';
import { ensureCatalogueBackbone } from '../services/backbone/catalogue-download.js';
import type { DownloadProgress } from '../services/backbone/download.js';
import { checkBackbone } from '../services/backbone/load-backbone.js';
import type { BackboneEntry } from '../api/backbone-schemas.js';
import { EXIT, UserError, type CommandContext } from './command.js';

export function formatBytes(n: number): string {
  return n >= 2 ** 20 ? `${(n / 2 ** 20).toFixed(1)} MiB` : `${n} bytes`;
}

/** Progress lines at most every half second: received, share, speed. */
export function downloadProgressWriter(
  context: CommandContext,
  json: boolean,
): (p: DownloadProgress) => void {
  let lastShown = 0;
  let start: { at: number; received: number } | undefined;
  return (p) => {
    const now = Date.now();
    start ??= { at: now, received: p.received };
    if (p.phase === 'download' && now - lastShown < 500 && p.received !== p.total) return;
    lastShown = now;
    const seconds = (now - start.at) / 1000;
    const speed = seconds > 0 ? (p.received - start.received) / seconds : 0;
    if (json)
      context.stdout.write(
        `${JSON.stringify({ type: 'progress', ...p, bytesPerSecond: Math.round(speed) })}\n`,
      );
    else if (p.phase === 'verify') context.stderr.write('checking the SHA-256 ...\n');
    else
      context.stderr.write(
        `${formatBytes(p.received)}${p.total ? ` of ${formatBytes(p.total)} (${((100 * p.received) / p.total).toFixed(0)} %)` : ''}` +
          `${speed > 0 ? `, ${formatBytes(speed)}/s` : ''}${p.resumedFrom > 0 ? ` (resumed at ${formatBytes(p.resumedFrom)})` : ''}\n`,
      );
  };
}

/** True when `value` names a catalogue entry rather than a file. */
export function isCatalogueId(value: string): boolean {
  return catalogueEntry(value) !== undefined;
}

/**
 * Makes sure catalogue entry `id` is downloaded into `workspace` and listed; returns its library entry.
 * Ctrl-C cancels (what arrived is kept) with a UserError of exit code 130.
 */
export async function fetchCatalogueBackbone(
  context: CommandContext,
  id: string,
  workspace: string,
  json: boolean,
): Promise<{ entry: BackboneEntry; downloaded: boolean }> {
  const controller = new AbortController();
  const stop = () => controller.abort(new Error('interrupted'));
  process.once('SIGINT', stop);
  try {
    return await ensureCatalogueBackbone(id, new BackboneLibrary(workspace), checkBackbone, {
      workspace,
      signal: controller.signal,
      onProgress: downloadProgressWriter(context, json),
    });
  } catch (e) {
    if (controller.signal.aborted)
      throw new UserError(
        'Interrupted; run the same command again to resume the download.',
        EXIT.interrupted,
      );
    throw e;
  } finally {
    process.off('SIGINT', stop);
  }
}
