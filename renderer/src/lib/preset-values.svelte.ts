// What each training preset sets, from scratch and from a pretrained backbone (training.presets), loaded
// once for the new-run and new-comparison forms' descriptions and "preset (…)" placeholders.
import type { PresetName, PresetValues } from '../../../main/api/training-schemas.js';
import { api } from './api.js';

export const presetValues = $state({
  scratch: [] as PresetValues[],
  backbone: [] as PresetValues[],
});

let loading: Promise<void> | null = null;

export function loadPresetValues(): Promise<void> {
  loading ??= Promise.all([
    api().call('training.presets', { backbone: false }),
    api().call('training.presets', { backbone: true }),
  ]).then(
    ([scratch, backbone]) => {
      presetValues.scratch = scratch;
      presetValues.backbone = backbone;
    },
    () => {
      loading = null; // try again next time
    },
  );
  return loading;
}

export function valuesOf(preset: PresetName, fromBackbone: boolean): PresetValues | undefined {
  return presetValues[fromBackbone ? 'backbone' : 'scratch'].find((p) => p.preset === preset);
}
