// The workspace folder: datasets.json (references to the user's folders, with their last scan summary),
// runs/ (one folder per training run), models/ (exported models) and classifications/ (one folder per
// classified folder: job.json, results and overlays) and comparisons/ (one folder per comparison of
// attention against the plain model: job.json, run folders, models, compare.json and compare.html).
// Writes are atomic. Must not import
// electron or renderer.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { DatasetEntry } from '../api/index.js';
import { writeJsonAtomic } from '../services/storage/atomic-write.js';

const DATASETS_FORMAT = 'attnvgg-datasets/1';

interface DatasetsFile {
  format: typeof DATASETS_FORMAT;
  datasets: DatasetEntry[];
}

export class WorkspaceError extends Error {
  override name = 'WorkspaceError';
}

export class Workspace {
  readonly root: string;
  readonly runsDir: string;
  readonly modelsDir: string;
  readonly classificationsDir: string;
  readonly comparisonsDir: string;
  private readonly datasetsFile: string;
  /** Writes of datasets.json one after the other, so two quick adds cannot lose one. */
  private writing: Promise<unknown> = Promise.resolve();

  private constructor(root: string) {
    this.root = root;
    this.runsDir = join(root, 'runs');
    this.modelsDir = join(root, 'models');
    this.classificationsDir = join(root, 'classifications');
    this.comparisonsDir = join(root, 'comparisons');
    this.datasetsFile = join(root, 'datasets.json');
  }

  static async open(root: string): Promise<Workspace> {
    const workspace = new Workspace(resolve(root));
    try {
      await mkdir(workspace.runsDir, { recursive: true });
      await mkdir(workspace.modelsDir, { recursive: true });
      await mkdir(workspace.classificationsDir, { recursive: true });
      await mkdir(workspace.comparisonsDir, { recursive: true });
    } catch (error) {
      throw new WorkspaceError(
        `Cannot use ${workspace.root} as the workspace: ${(error as Error).message}. Choose another folder with --workspace.`,
      );
    }
    return workspace;
  }

  runDir(runId: string): string {
    return join(this.runsDir, runId);
  }

  async runIds(): Promise<string[]> {
    const entries = await readdir(this.runsDir, { withFileTypes: true }).catch(() => []);
    return entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name);
  }

  async datasets(): Promise<DatasetEntry[]> {
    let text: string;
    try {
      text = await readFile(this.datasetsFile, 'utf8');
    } catch {
      return [];
    }
    try {
      const file = JSON.parse(text) as DatasetsFile;
      if (file.format !== DATASETS_FORMAT || !Array.isArray(file.datasets)) throw new Error('format');
      return file.datasets;
    } catch {
      throw new WorkspaceError(
        `${this.datasetsFile} is damaged. Move it away to start with an empty list of datasets; your folders are untouched.`,
      );
    }
  }

  async dataset(id: string): Promise<DatasetEntry | undefined> {
    return (await this.datasets()).find((d) => d.id === id);
  }

  /** Adds or replaces (same id, or same folder) a dataset entry. */
  async saveDataset(entry: DatasetEntry): Promise<void> {
    await this.update((list) => [...list.filter((d) => d.id !== entry.id && d.path !== entry.path), entry]);
  }

  async removeDataset(id: string): Promise<boolean> {
    let removed = false;
    await this.update((list) => {
      removed = list.some((d) => d.id === id);
      return list.filter((d) => d.id !== id);
    });
    return removed;
  }

  newDatasetId(path: string): string {
    return `${slug(basename(path)) || 'dataset'}-${randomBytes(3).toString('hex')}`;
  }

  newClassifyJobId(folder: string, now = new Date()): string {
    const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
    return `${stamp}-${slug(basename(folder)) || 'folder'}-${randomBytes(2).toString('hex')}`;
  }

  newCompareId(datasetName: string, now = new Date()): string {
    return `compare-${this.newRunId(datasetName, now)}`;
  }

  newRunId(datasetName: string, now = new Date()): string {
    const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
    return `${stamp}-${slug(datasetName) || 'run'}-${randomBytes(2).toString('hex')}`;
  }

  private async update(change: (list: DatasetEntry[]) => DatasetEntry[]): Promise<void> {
    const next = this.writing.then(async () => {
      const list = change(await this.datasets());
      const file: DatasetsFile = { format: DATASETS_FORMAT, datasets: list };
      await writeJsonAtomic(this.datasetsFile, file);
    });
    this.writing = next.catch(() => undefined);
    await next;
  }
}

function slug(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[^A-Za-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .toLowerCase();
}
