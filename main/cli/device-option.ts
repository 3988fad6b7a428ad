// The `--device` option shared by train, resume, eval, classify, compare and bench: its spec, its help
// line and its check (the valid choices in the error). Where `auto` keeps its verdict: the default
// workspace. Must not import electron or anything from main/electron or renderer.

import { DEVICE_CHOICES, DEVICE_ENV_VAR, type DeviceChoice } from '../../models/onnx/device.js';
import { defaultWorkspaceDir } from '../backend/default-workspace.js';
import { optionHelp, optionSpec, type OptionRow } from './option-table.js';
import { choiceOption, type OptionSpec, type ParsedOptions } from './parse-options.js';

/** The --device row of an option table (option-table.ts). */
export const DEVICE_ROW: OptionRow = {
  name: 'device',
  type: 'string',
  value: 'NAME',
  help: [
    `${DEVICE_CHOICES.join(' | ')}: where onnxruntime runs (default cpu; env`,
    `${DEVICE_ENV_VAR}). auto takes a GPU only where a timed step beats the CPU`,
  ],
};

export const DEVICE_OPTION: OptionSpec = optionSpec([DEVICE_ROW]);

export const DEVICE_HELP = optionHelp([DEVICE_ROW]);

/** The --device value, checked (undefined when absent: ATTNVGG_DEVICE or the default apply). */
export function deviceOption(values: ParsedOptions['values']): DeviceChoice | undefined {
  return choiceOption(values, 'device', DEVICE_CHOICES);
}

/** Where `auto` caches its verdict: the app's default workspace. */
export function deviceCacheDir(): string {
  return defaultWorkspaceDir();
}
