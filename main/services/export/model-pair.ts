// How an export replaces the pair `<name>.onnx` + `<name>.json` so that at every moment either the old
// pair or the new pair can be read, even if the disk fills or the process dies half-way. Two files cannot
// be renamed at once, so the sidecar is the commit record:
//
//   1. the new model is written (temporary file, fsync, rename, fsync of the folder) under a hidden
//      pending name that carries the new export's id: `.<name>.onnx.<modelId>.pending`;
//   2. pending models of earlier, interrupted exports of the same name are deleted;
//   3. the new sidecar is written atomically over the old one: the commit point;
//   4. the pending model is renamed over `<name>.onnx` and the folder is fsynced.
//
// A failure before 3 leaves the old pair untouched (the pending file is removed when possible). After 3
// the new pair is committed: a reader that finds the sidecar's id missing from `<name>.onnx` looks for
// the pending model of exactly that id and, when its metadata matches, finishes step 4 itself
// (completePendingModel). Pending names never end in `.onnx` (models.list skips them) and never match
// the atomic writer's `.tmp` names (removeStaleTemporaries leaves them alone). Must not import electron
// or anything from main/electron, main/backend, main/server, main/cli or renderer.

import { readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { syncFolder } from '../storage/atomic-write.js';

const PENDING_SUFFIX = '.pending';
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

/** Where export `modelId` keeps its new model until the sidecar is committed. */
export function pendingModelPath(modelPath: string, modelId: string): string {
  return join(dirname(modelPath), `.${basename(modelPath)}.${modelId}${PENDING_SUFFIX}`);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The pending models of `modelPath` left in its folder, other than `keepId`'s. */
export async function listPendingModels(modelPath: string, keepId?: string): Promise<string[]> {
  const pattern = new RegExp(`^\\.${escapeRegExp(basename(modelPath))}\\.(${UUID})\\.pending$`);
  const names = await readdir(dirname(modelPath)).catch(() => [] as string[]);
  return names
    .filter((name) => {
      const match = pattern.exec(name);
      return match !== null && match[1] !== keepId;
    })
    .map((name) => join(dirname(modelPath), name));
}

/** Deletes the pending models of interrupted exports of `modelPath` (all but `keepId`'s). */
export async function removePendingModels(modelPath: string, keepId?: string): Promise<void> {
  for (const path of await listPendingModels(modelPath, keepId)) await rm(path, { force: true });
}

/**
 * Step 4: moves the pending model of export `modelId` over `modelPath` and makes the rename durable.
 * Returns false when there is no such pending model (already moved by another process, or never
 * written); throws the file system's error for anything else.
 */
export async function completePendingModel(modelPath: string, modelId: string): Promise<boolean> {
  try {
    await rename(pendingModelPath(modelPath, modelId), modelPath);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
  await syncFolder(dirname(modelPath));
  return true;
}
