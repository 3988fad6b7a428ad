// The `--device` option shared by train, resume, eval, classify, compare and bench: its spec, its help
// line and its check (the valid choices in the error). Where `auto` keeps its verdict: the default
// workspace. Must not import electron or anything from main/electron or renderer.

import { DEVICE_CHOICES, DEVICE_ENV_VAR, type DeviceChoice } from '../../models/onnx/device.js';
import { defaultWorkspaceDir } from '../server/default-workspace.js';
import { choiceOption, type OptionSpec, type ParsedOptions } from './parse-options.js';

export const DEVICE_OPTION: OptionSpec = { device: { type: 'string' } };

export const DEVICE_HELP = `  --device NAME          ${DEVICE_CHOICES.join(' | ')}: where onnxruntime runs (default cpu; env
                         ${DEVICE_ENV_VAR}). auto takes a GPU only where a timed step beats the CPU`;

/** The --device value, checked (undefined when absent: ATTNVGG_DEVICE or the default apply). */
export function deviceOption(values: ParsedOptions['values']): DeviceChoice | undefined {
  return choiceOption(values, 'device', DEVICE_CHOICES);
}

/** Where `auto` caches its verdict: the app's default workspace. */
export function deviceCacheDir(): string {
  return defaultWorkspaceDir();
}
