// API handlers for models: list the exported models (workspace models/ folder, each with its sidecar),
// and export a run to ONNX with its sidecar in a task worker, so the server's event loop never waits on
// loading weights or serialising the graph; 'export' events say what happens in plain words.
// Must not import electron or renderer.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ApiError, type ApiHandlers, type ModelEntry } from '../../api/index.js';
import { readSidecar, type ModelSidecar } from '../../services/export/index.js';
import { runTask } from '../../services/jobs/index.js';
import { readRunRecord } from '../../services/training/run-folder.js';
import type { BackendContext } from '../backend-context.js';
import type { Workspace } from '../workspace.js';

type ModelHandlers = Pick<ApiHandlers, 'models.list' | 'models.export'>;

export interface ExportedModel {
  entry: ModelEntry;
  sidecar: ModelSidecar;
}

function entryOf(sidecar: ModelSidecar, modelPath: string): ModelEntry {
  return {
    id: sidecar.modelId,
    path: modelPath,
    classes: sidecar.classes,
    inputSize: sidecar.preprocessing.size,
    createdAt: sidecar.provenance.exportedAt,
    fromRun: sidecar.provenance.runId,
  };
}

/** The exported models of the workspace with readable sidecars, by file name. */
export async function listModels(workspace: Workspace): Promise<ExportedModel[]> {
  const names = await readdir(workspace.modelsDir).catch(() => []);
  const models: ExportedModel[] = [];
  for (const name of names.filter((n) => n.toLowerCase().endsWith('.onnx')).sort()) {
    const modelPath = join(workspace.modelsDir, name);
    const reading = await readSidecar(modelPath).catch(() => null);
    if (reading) models.push({ entry: entryOf(reading.sidecar, modelPath), sidecar: reading.sidecar });
  }
  return models;
}

export function modelHandlers(context: BackendContext): ModelHandlers {
  const { workspace } = context;
  const exporting = new Set<string>();
  return {
    'models.list': async () => ({
      available: true as const,
      models: (await listModels(workspace)).map((m) => m.entry),
      folder: workspace.modelsDir,
    }),

    'models.export': async ({ runId }) => {
      const runDir = workspace.runDir(runId);
      await readRunRecord(runDir).catch(() => {
        throw new ApiError('not-found', `There is no run "${runId}" in this workspace.`);
      });
      if (context.jobs.isActive(runId))
        throw new ApiError(
          'conflict',
          'That run is training now: pause it or let it finish before exporting.',
        );
      if (exporting.has(runId)) throw new ApiError('conflict', 'That run is being exported already.');
      exporting.add(runId);
      const modelPath = join(workspace.modelsDir, `${runId}.onnx`);
      context.emit({
        type: 'export',
        runId,
        stage: 'started',
        message: `Exporting ${runId}: loading its best weights and writing the ONNX model…`,
      });
      try {
        const task = runTask(
          { kind: 'export', runDir, modelPath, overwrite: true },
          undefined,
          context.createTaskWorker,
        );
        const outcome = await task.done;
        if (outcome.type !== 'exported')
          throw new ApiError('failed', 'The export worker gave an unexpected answer.');
        context.emit({
          type: 'export',
          runId,
          stage: 'finished',
          message: `Exported ${runId} to ${outcome.modelPath} (${(outcome.bytes / 2 ** 20).toFixed(1)} MiB), with its sidecar beside it.`,
        });
        return { available: true as const, model: entryOf(outcome.sidecar, outcome.modelPath) };
      } catch (error) {
        const message = `Could not export ${runId}: ${(error as Error).message}`;
        context.emit({ type: 'export', runId, stage: 'failed', message });
        throw error instanceof ApiError ? error : new ApiError('failed', message);
      } finally {
        exporting.delete(runId);
      }
    },
  };
}
