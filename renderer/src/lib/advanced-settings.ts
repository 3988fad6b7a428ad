// The advanced training settings the new-run and new-comparison forms share (AdvancedSettingsFields.svelte):
// what the fields hold, and the settings they send. An empty field sends nothing, so the preset's value
// applies. Must not import Node modules.
import type { TrainingSettings } from '../../../main/api/training-schemas.js';

/** The fields as the form holds them: null or '' while empty. */
export interface AdvancedValues {
  inputSize: number | null;
  width: string;
  epochs: number | null;
  batchSize: number | null;
  optimizer: string;
  lr: number | null;
}

export function emptyAdvancedValues(): AdvancedValues {
  return { inputSize: null, width: '', epochs: null, batchSize: null, optimizer: '', lr: null };
}

/** A number input's value when it holds a finite number; undefined when empty or invalid. */
export function finiteOrUndefined(value: number | null | undefined): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

export type AdvancedSettings = Pick<
  TrainingSettings,
  'inputSize' | 'width' | 'epochs' | 'batchSize' | 'optimizer' | 'lr'
>;

/** The settings the user changed (an empty field is left out, so the preset's value applies). */
export function advancedSettings(values: AdvancedValues): AdvancedSettings {
  const out: AdvancedSettings = {};
  const inputSize = finiteOrUndefined(values.inputSize);
  const epochs = finiteOrUndefined(values.epochs);
  const batchSize = finiteOrUndefined(values.batchSize);
  const lr = finiteOrUndefined(values.lr);
  if (inputSize !== undefined) out.inputSize = inputSize;
  if (values.width) out.width = Number(values.width);
  if (epochs !== undefined) out.epochs = epochs;
  if (batchSize !== undefined) out.batchSize = batchSize;
  if (values.optimizer) out.optimizer = values.optimizer as TrainingSettings['optimizer'];
  if (lr !== undefined) out.lr = lr;
  return out;
}
