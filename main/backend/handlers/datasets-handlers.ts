// API handlers for datasets: scan a folder, add it (only when it holds usable images), the workspace's
// list, thumbnails of images inside the chosen folders, and a folder listing for picking a folder in
// browser mode. Must not import electron or renderer.
import { readdir, stat } from 'node:fs/promises';
import os from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import sharp from 'sharp';
import {
  ApiError,
  BACKBONE_FILE_SUFFIXES,
  type ApiHandlers,
  type DatasetEntry,
  type Thumbnail,
} from '../../api/index.js';
import { scanDataset } from '../../services/datasets/index.js';
import { decodeImageRgb8 } from '../../services/images/index.js';
import type { BackendContext } from '../backend-context.js';
import { allowedImageRoots } from '../image-roots.js';
import { checkAllowedFile } from '../path-guard.js';
import { summariseScan } from '../summarise-scan.js';
import { requireDataset } from './training-request.js';

type DatasetHandlers = Pick<
  ApiHandlers,
  | 'datasets.scan'
  | 'datasets.list'
  | 'datasets.add'
  | 'datasets.rescan'
  | 'datasets.remove'
  | 'datasets.thumbnails'
  | 'folders.list'
>;

const DEFAULT_THUMBNAIL_SIZE = 96;

export async function requireFolder(path: string): Promise<string> {
  const absolute = resolve(path);
  const info = await stat(absolute).catch(() => null);
  if (!info)
    throw new ApiError('not-found', `There is no folder at ${absolute}. Check the path and try again.`);
  if (!info.isDirectory())
    throw new ApiError(
      'bad-request',
      `${absolute} is a file, not a folder. Choose the folder that holds the class folders.`,
    );
  return absolute;
}

async function scanSummary(context: BackendContext, path: string) {
  const root = await requireFolder(path);
  const scan = await scanDataset(root, {
    onProgress: (p) => context.emit({ type: 'scan-progress', path: root, ...p }),
    progressIntervalMs: 250,
  });
  return summariseScan(scan);
}

/** A square PNG data URL of the picture (the model's crop), `size` pixels on a side. */
export async function thumbnail(path: string, size: number): Promise<string> {
  const image = await decodeImageRgb8(path, { size });
  const png = await sharp(image.data, { raw: { width: size, height: size, channels: 3 } })
    .png()
    .toBuffer();
  return `data:image/png;base64,${png.toString('base64')}`;
}

/**
 * Where a request may read images from: inside one dataset's folder when it names the dataset (paths
 * relative to that folder), otherwise inside any folder the user chose (datasets, classified folders).
 */
export async function imageScope(
  context: BackendContext,
  datasetId: string | undefined,
): Promise<{ roots: string[]; base?: string }> {
  if (!datasetId) return { roots: await allowedImageRoots(context.workspace, context.classify) };
  const entry = await requireDataset(context.workspace, datasetId);
  return { roots: [entry.path], base: entry.path };
}

export function datasetHandlers(context: BackendContext): DatasetHandlers {
  const { workspace } = context;
  return {
    'datasets.scan': async ({ path }) => scanSummary(context, path),

    'datasets.list': async () => workspace.datasets(),

    'datasets.add': async ({ path, name }) => {
      const summary = await scanSummary(context, path);
      // A folder without a single usable image is not a dataset, and must not become a folder whose
      // files the app may show or open (files.reveal): refuse it with the scan's own explanation.
      const noImages = summary.errors.find((e) => e.code === 'no-images');
      if (noImages || summary.stats.imagesUsable === 0)
        throw new ApiError(
          'bad-request',
          `${summary.root} was not added: ${noImages?.message ?? 'it holds no usable images.'}`,
        );
      const existing = (await workspace.datasets()).find((d) => d.path === summary.root);
      const entry: DatasetEntry = {
        id: existing?.id ?? workspace.newDatasetId(summary.root),
        name: name || existing?.name || basename(summary.root),
        path: summary.root,
        addedAt: existing?.addedAt ?? new Date().toISOString(),
        scan: summary,
      };
      await workspace.saveDataset(entry);
      return entry;
    },

    'datasets.rescan': async ({ id }) => {
      const entry = await requireDataset(workspace, id);
      const updated = { ...entry, scan: await scanSummary(context, entry.path) };
      await workspace.saveDataset(updated);
      return updated;
    },

    'datasets.remove': async ({ id }) => ({ removed: await workspace.removeDataset(id) }),

    'datasets.thumbnails': async ({ paths, datasetId, size }) => {
      const { roots, base } = await imageScope(context, datasetId);
      const px = size ?? DEFAULT_THUMBNAIL_SIZE;
      return Promise.all(
        paths.map(async (path): Promise<Thumbnail> => {
          try {
            const file = await checkAllowedFile(path, roots, base);
            return { path, dataUrl: await thumbnail(file, px) };
          } catch (error) {
            return { path, dataUrl: null, error: (error as Error).message };
          }
        }),
      );
    },

    'folders.list': async ({ path, files }) => {
      const folder = await requireFolder(path && path.trim() ? path : os.homedir());
      const entries = await readdir(folder, { withFileTypes: true }).catch((error: Error) => {
        throw new ApiError('failed', `Cannot list ${folder}: ${error.message}`);
      });
      const visible = (kind: 'folder' | 'file', suffixes: readonly string[] = ['']) =>
        entries
          .filter((e) => (kind === 'folder' ? e.isDirectory() : e.isFile()) && !e.name.startsWith('.'))
          .filter((e) => suffixes.some((suffix) => e.name.toLowerCase().endsWith(suffix)))
          .map((e) => join(folder, e.name))
          .sort((a, b) => a.localeCompare(b));
      const parent = dirname(folder);
      return {
        path: folder,
        parent: parent === folder ? null : parent,
        folders: visible('folder'),
        ...(files
          ? { files: visible('file', files === 'weights' ? BACKBONE_FILE_SUFFIXES : [`.${files}`]) }
          : {}),
      };
    },
  };
}
