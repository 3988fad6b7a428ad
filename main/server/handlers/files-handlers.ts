// API handler for "open" on a file the app shows (a problem file of a scan, a misclassified or classified
// image): on the desktop, the file manager is opened on it (Electron's shell.showItemInFolder, passed in
// by main/electron); in a browser, the answer carries the full path and a preview when the picture can
// be decoded. Only files inside folders the user chose are answered. Must not import electron or renderer.
import { stat } from 'node:fs/promises';
import { ApiError, type ApiHandlers } from '../../api/index.js';
import type { BackendContext } from '../backend-context.js';
import { allowedImageRoots } from '../image-roots.js';
import { checkAllowedFile } from '../path-guard.js';
import { thumbnail } from './datasets-handlers.js';

type FileHandlers = Pick<ApiHandlers, 'files.reveal'>;

const DEFAULT_PREVIEW = 320;

export function fileHandlers(context: BackendContext): FileHandlers {
  const { workspace } = context;
  return {
    'files.reveal': async ({ path, datasetId, previewSize }) => {
      let roots: string[];
      let base: string | undefined;
      if (datasetId) {
        const entry = await workspace.dataset(datasetId);
        if (!entry) throw new ApiError('not-found', 'That dataset is no longer in the workspace.');
        roots = [entry.path];
        base = entry.path;
      } else roots = await allowedImageRoots(workspace, context.classify);
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
