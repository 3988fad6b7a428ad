// What the handlers that start training (training.start, compare.start) check first, and the dataset
// look-up that several handlers share: a dataset that is gone, a dataset whose scan found errors and
// settings that do not resolve, and a backbone that is gone, are answered at once, as API errors the user can act on, rather than by a
// worker later. Must not import electron or renderer.
import { ApiError, type DatasetEntry } from '../../api/index.js';
import {
  ConfigError,
  resolveConfig,
  type PresetName,
  type TrainingConfig,
} from '../../services/training/training-config.js';
import { catalogueEntry } from '../../services/backbone/catalogue.js';
import { BackboneError } from '../../services/backbone/load-backbone.js';
import type { BackendContext } from '../backend-context.js';
import type { Workspace } from '../workspace.js';

/** The workspace's dataset `id`; a not-found API error when it has been removed. */
export async function requireDataset(workspace: Workspace, id: string): Promise<DatasetEntry> {
  const entry = await workspace.dataset(id);
  if (!entry) throw new ApiError('not-found', 'That dataset is no longer in the workspace.');
  return entry;
}

/** The dataset `id`, refused (bad request, with the scan's reasons) when its scan found errors. */
export async function requireTrainableDataset(workspace: Workspace, id: string): Promise<DatasetEntry> {
  const entry = await requireDataset(workspace, id);
  if (entry.scan && entry.scan.errors.length > 0)
    throw new ApiError(
      'bad-request',
      `This dataset cannot be trained on: ${entry.scan.errors.map((e) => e.message).join(' ')}`,
    );
  return entry;
}

/** The full training configuration of `settings` over `preset`; a bad request says what is wrong. */
export function resolveRequestedConfig(
  settings: Partial<TrainingConfig> & { dataset: string },
  preset: PresetName | undefined,
): TrainingConfig {
  try {
    return resolveConfig(settings, preset);
  } catch (error) {
    if (error instanceof ConfigError) throw new ApiError('bad-request', error.message);
    throw error;
  }
}

/** The file of the workspace's backbone `id`; a not-found API error says what to do when it is gone. */
export async function requireBackbone(
  context: Pick<BackendContext, 'backbones'>,
  id: string,
): Promise<string> {
  try {
    return await context.backbones.pathOf(id);
  } catch (error) {
    if (error instanceof BackboneError) throw new ApiError('not-found', error.message);
    throw error;
  }
}

/**
 * The settings a run from backbone `id` takes: its file, and for a catalogue download the mean and
 * standard deviation its weights were trained with (the export sidecar then carries them, so training
 * and classification cannot drift).
 */
export async function backboneSettings(
  context: Pick<BackendContext, 'backbones'>,
  id: string,
): Promise<Pick<TrainingConfig, 'backbone'> & Partial<Pick<TrainingConfig, 'mean' | 'std'>>> {
  const backbone = await requireBackbone(context, id);
  const catalogueId = (await context.backbones.get(id))?.catalogueId;
  const preprocessing = catalogueId ? catalogueEntry(catalogueId)?.preprocessing : undefined;
  return preprocessing ? { backbone, mean: preprocessing.mean, std: preprocessing.std } : { backbone };
}
