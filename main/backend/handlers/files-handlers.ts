// API handler for "open" on a file the app shows (a problem file of a scan, a misclassified or classified
// image): on the desktop, the file manager is opened on it (Electron's shell.showItemInFolder, passed in
// by main/electron); in a browser, the answer carries the full path and a preview when the picture can
// be decoded. Only files inside folders the user chose are answered. Must not import electron or renderer.
import { stat } from 'node:fs/promises';
import type { ApiHandlers } from '../../api/index.js';
import type { BackendContext } from '../backend-context.js';
import { checkAllowedFile } from '../path-guard.js';
import { imageScope, thumbnail } from './datasets-handlers.js';

type FileHandlers = Pick<ApiHandlers, 'files.reveal'>;

const DEFAULT_PREVIEW = 320;

export function fileHandlers(context: BackendContext): FileHandlers {
  return {
    'files.reveal': async ({ path, datasetId, previewSize }) => {
      const { roots, base } = await imageScope(context, datasetId);
      const file = await checkAllowedFile(path, roots, base);
      const info = await stat(file).catch(() => null);
      if (context.showItemInFolder) {
        context.showItemInFolder(file);
        return {
          path: file,
          revealed: true,
          preview: null,
          exists: info !== null,
          bytes: info?.size ?? null,
        };
      }
      let preview: string | null = null;
      let previewError: string | undefined;
      if (!info) previewError = 'The file is not there any more.';
      else if (!info.isFile()) previewError = 'This is not a regular file.';
      else
        try {
          preview = await thumbnail(file, previewSize ?? DEFAULT_PREVIEW);
        } catch (error) {
          previewError = `No preview: ${(error as Error).message}`;
        }
      return {
        path: file,
        revealed: false,
        preview,
        ...(previewError ? { previewError } : {}),
        exists: info !== null,
        bytes: info?.size ?? null,
      };
    },
  };
}
