// The workspace's pretrained backbones: a list (<workspace>/backbones/library.json) of the VGG16_bn files
// the user added, each checked once when it was added. A picked file is used where it is (nothing is
// copied unless asked); a download lives in the same folder under its SHA-256 (download.ts). Removing a
// picked file forgets it; removing a download also deletes the cached file. Training refers to a
// backbone by id, so the UI never sends a path to train from. Writes are atomic and one at a time.
// Must not import electron or anything from main/electron, main/backend, main/server, main/cli or renderer.

import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { BACKBONE_FILE_SUFFIXES, type BackboneEntry } from '../../api/backbone-schemas.js';
import { writeJsonAtomic } from '../storage/atomic-write.js';
import { catalogueEntryWithHash } from './catalogue-download.js';
import { backboneCacheDir, usePickedBackbone, type CachedBackbone } from './download.js';
import { BackboneError, type BackboneReport } from './load-backbone.js';

const LIBRARY_FORMAT = 'attnvgg-backbones/1';

interface LibraryFile {
  format: typeof LIBRARY_FORMAT;
  backbones: Omit<BackboneEntry, 'present'>[];
}

/** Checks a file as a backbone (load-backbone.ts checkBackbone; the server runs it in a worker). */
export type BackboneChecker = (file: string) => Promise<BackboneReport>;

/** The line the lists show for a usable file. */
export function backboneSummary(report: BackboneReport): string {
  const b = report.backbone;
  if (!b) return 'not usable';
  const made = b.form === 'onnx' || b.form === 'onnx-tar-gz' ? `, opset ${b.opset}` : '';
  return `width ${b.width}, BatchNorm ${b.batchNorm}, ${b.producer || 'unknown producer'}${made}`;
}

export class BackboneLibrary {
  readonly folder: string;
  private readonly file: string;
  private writing: Promise<unknown> = Promise.resolve();

  constructor(workspaceRoot: string) {
    this.folder = backboneCacheDir(workspaceRoot);
    this.file = join(this.folder, 'library.json');
  }

  private async read(): Promise<LibraryFile['backbones']> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch {
      return [];
    }
    try {
      const parsed = JSON.parse(text) as LibraryFile;
      if (parsed.format !== LIBRARY_FORMAT || !Array.isArray(parsed.backbones)) throw new Error('format');
      return parsed.backbones;
    } catch {
      throw new BackboneError(
        `${this.file} is damaged. Move it away to start with an empty list of backbones; the backbone files are untouched.`,
      );
    }
  }

  /** Applies `change` to the stored list, one change at a time. */
  private update<T>(change: (list: LibraryFile['backbones']) => T | Promise<T>): Promise<T> {
    const next = this.writing.then(async () => {
      const list = await this.read();
      const result = await change(list);
      await mkdir(this.folder, { recursive: true });
      await writeJsonAtomic(this.file, { format: LIBRARY_FORMAT, backbones: list } satisfies LibraryFile);
      return result;
    });
    this.writing = next.catch(() => undefined);
    return next;
  }

  /** Every backbone, newest first, each saying whether its file is still there. */
  async list(): Promise<BackboneEntry[]> {
    const stored = await this.read();
    const entries = await Promise.all(
      stored.map(async (e) => {
        const info = await stat(e.path).catch(() => null);
        return { ...e, present: info !== null && info.isFile() && info.size === e.bytes };
      }),
    );
    return entries.sort((a, b) => b.addedAt.localeCompare(a.addedAt));
  }

  async get(id: string): Promise<BackboneEntry | undefined> {
    return (await this.list()).find((e) => e.id === id);
  }

  /**
   * The file of backbone `id` to train from; a BackboneError says what to do when it is not in the list
   * or its file has gone.
   */
  async pathOf(id: string): Promise<string> {
    const entry = await this.get(id);
    if (!entry) throw new BackboneError('That backbone is no longer in the workspace: choose another one.');
    if (!entry.present)
      throw new BackboneError(
        `The backbone file ${entry.path} has been moved, changed or deleted. Add it again from where it is now, or remove it from the list.`,
      );
    return entry.path;
  }

  /**
   * Adds a file the user picked, used where it is: it must check as a usable backbone (else a
   * BackboneError with the reason). Adding the same file content again returns the existing entry.
   */
  async addFile(path: string, check: BackboneChecker): Promise<BackboneEntry> {
    const file = resolve(path);
    if (!BACKBONE_FILE_SUFFIXES.some((e) => file.toLowerCase().endsWith(e)))
      throw new BackboneError(
        `${basename(file)} is not a weights file: choose VGG16_bn weights (${BACKBONE_FILE_SUFFIXES.join(', ')}).`,
      );
    const report = await check(file);
    if (!report.usable) throw new BackboneError(`${basename(file)} cannot be used: ${report.problem}`);
    const picked = await usePickedBackbone(file);
    // A catalogue file fetched by hand (offline) counts as that entry: its published checksum matches.
    const catalogueId = catalogueEntryWithHash(picked.sha256)?.id;
    return this.record(
      {
        name: basename(file),
        path: file,
        sha256: picked.sha256,
        bytes: picked.bytes,
        source: 'file',
        ...(catalogueId ? { catalogueId } : {}),
      },
      report,
    );
  }

  /** Records a file download.ts fetched into the cache; an unusable one is deleted and refused. */
  async addDownload(
    got: CachedBackbone,
    url: string,
    check: BackboneChecker,
    catalogueId?: string,
  ): Promise<BackboneEntry> {
    const report = await check(got.path);
    if (!report.usable) {
      if (dirname(got.path) === this.folder) await rm(got.path, { force: true });
      throw new BackboneError(`The file downloaded from ${url} cannot be used: ${report.problem}`);
    }
    const name = basename(new URL(url).pathname) || `${got.sha256.slice(0, 16)}.onnx`;
    return this.record(
      {
        name,
        path: got.path,
        sha256: got.sha256,
        bytes: got.bytes,
        source: 'download',
        url,
        ...(catalogueId ? { catalogueId } : {}),
      },
      report,
    );
  }

  private record(
    file: Pick<BackboneEntry, 'name' | 'path' | 'sha256' | 'bytes' | 'source' | 'url' | 'catalogueId'>,
    report: BackboneReport,
  ): Promise<BackboneEntry> {
    return this.update(async (list) => {
      const id = file.sha256.slice(0, 16);
      const at = list.findIndex((e) => e.id === id);
      if (at >= 0) {
        // The same content again: one entry. A downloaded copy (the app's own, in the cache) stays the
        // entry while its file is there, so it is never left in the cache unlisted; otherwise the entry
        // now points where the file was added last.
        const existing = list[at];
        const info = await stat(existing.path).catch(() => null);
        if (existing.source === 'download' && file.source === 'file' && info?.size === existing.bytes)
          return { ...existing, present: true };
        list.splice(at, 1);
      }
      const entry = {
        id,
        ...file,
        addedAt: new Date().toISOString(),
        summary: backboneSummary(report),
        notes: report.notes,
      };
      list.push(entry);
      return { ...entry, present: true };
    });
  }

  /** Forgets backbone `id`; a downloaded one's file is deleted from the cache. False when unknown. */
  async remove(id: string): Promise<boolean> {
    const removed = await this.update((list) => {
      const at = list.findIndex((e) => e.id === id);
      return at < 0 ? undefined : list.splice(at, 1)[0];
    });
    if (!removed) return false;
    if (removed.source === 'download' && dirname(removed.path) === this.folder)
      await rm(removed.path, { force: true });
    return true;
  }
}
