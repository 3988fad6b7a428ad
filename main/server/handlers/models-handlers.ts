// API handlers for models: export a run to ONNX with its sidecar (main/services/export) into the
// workspace's models/ folder, and list the exported models with their sidecars. Classification of a
// folder stays a typed placeholder until its service is wired. Must not import electron or renderer.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ApiError, type ApiHandlers, type ModelEntry } from '../../api/index.js';
import { ExportError, exportRun, readSidecar, type ModelSidecar } from '../../services/export/index.js';
import { readRunRecord } from '../../services/training/run-folder.js';
import type { BackendContext } from '../backend-context.js';

type ModelHandlers = Pick<ApiHandlers, 'models.list' | 'models.export' | 'classify.start'>;

const CLASSIFY_NOT_YET =
  'Classifying a folder is not available in the app yet; it is being built. Meanwhile `attnvgg eval` scores a labelled folder.';

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

export function modelHandlers(context: BackendContext): ModelHandlers {
  const { workspace } = context;
  return {
    'models.list': async () => {
      const names = await readdir(workspace.modelsDir).catch(() => []);
      const models: ModelEntry[] = [];
      for (const name of names.filter((n) => n.toLowerCase().endsWith('.onnx')).sort()) {
        const modelPath = join(workspace.modelsDir, name);
        const reading = await readSidecar(modelPath).catch(() => null);
        if (reading) models.push(entryOf(reading.sidecar, modelPath));
      }
      return { available: true as const, models, folder: workspace.modelsDir };
    },

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
      try {
        const result = await exportRun(runDir, join(workspace.modelsDir, `${runId}.onnx`), {
          overwrite: true,
        });
        return { available: true as const, model: entryOf(result.sidecar, result.modelPath) };
      } catch (error) {
        if (error instanceof ExportError) throw new ApiError('failed', error.message);
        throw error;
      }
    },

    'classify.start': async () => ({ available: false as const, message: CLASSIFY_NOT_YET }),
  };
}
