// Which onnxruntime execution provider runs a session: the user's device names (cpu, webgpu, dml, cuda,
// and auto, resolved by main/services/device), what onnxruntime-node can offer on this machine, and the
// executionProviders list for each. onnxruntime-node 1.30 ships the CPU and WebGPU providers in its npm
// package (WebGPU: Dawn over Vulkan on Linux, Metal on macOS, Direct3D 12 on Windows), DirectML on
// Windows, and CUDA on Linux x64 only after its own install step (ONNXRUNTIME_NODE_INSTALL=cuda12).
// Imports onnxruntime-node for listSupportedBackends only; nothing from main/ or electron.

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';

const require = createRequire(import.meta.url);

/** A concrete device: one onnxruntime execution provider. */
export type Device = 'cpu' | 'webgpu' | 'dml' | 'cuda';
export const DEVICES: readonly Device[] = ['cpu', 'webgpu', 'dml', 'cuda'];
/** The GPU devices, in the order `auto` tries them. */
export const GPU_DEVICES: readonly Device[] = ['cuda', 'dml', 'webgpu'];

/** What a user may ask for: a device, or `auto` (a GPU only where it measurably beats the CPU). */
export type DeviceChoice = Device | 'auto';
export const DEVICE_CHOICES: readonly DeviceChoice[] = ['auto', ...DEVICES];

/** The environment variable that picks the device when no option does. */
export const DEVICE_ENV_VAR = 'ATTNVGG_DEVICE';

export class DeviceError extends Error {
  override name = 'DeviceError';
}

/** Parses a device name as a user typed it (CLI, environment, API); throws with the valid choices. */
export function parseDeviceChoice(value: string, source = 'device'): DeviceChoice {
  const name = value.trim().toLowerCase();
  if ((DEVICE_CHOICES as readonly string[]).includes(name)) return name as DeviceChoice;
  throw new DeviceError(`Unknown ${source} "${value}". Should be one of: ${DEVICE_CHOICES.join(', ')}.`);
}

/** The device asked for: the option when given, else ATTNVGG_DEVICE, else `fallback`. */
export function requestedDevice(
  option: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  fallback: DeviceChoice = 'cpu',
): DeviceChoice {
  if (option !== undefined) return parseDeviceChoice(option, '--device');
  const fromEnv = env[DEVICE_ENV_VAR];
  if (fromEnv !== undefined && fromEnv.trim() !== '') return parseDeviceChoice(fromEnv, DEVICE_ENV_VAR);
  return fallback;
}

/**
 * The executionProviders of a session on `device`. The CPU provider comes last for a GPU device:
 * onnxruntime places there only the nodes the GPU provider has no kernel for (shape arithmetic).
 */
export function executionProvidersFor(device: Device): ort.InferenceSession.ExecutionProviderConfig[] {
  return device === 'cpu' ? ['cpu'] : [device, 'cpu']; // the device names are onnxruntime's provider names
}

export interface DeviceAvailability {
  device: Device;
  available: boolean;
  /** Why not, in words a user can act on (absent when available). */
  reason?: string;
}

/**
 * Which devices this onnxruntime-node build can try here. Available means the provider is in the
 * binary; whether a usable adapter exists (a Vulkan driver for WebGPU, say) shows only when a session
 * opens.
 */
export function deviceAvailability(platform: NodeJS.Platform = process.platform): DeviceAvailability[] {
  const listed = new Map(ort.listSupportedBackends().map((b) => [b.name, b.bundled]));
  return DEVICES.map((device) => {
    if (device === 'cpu') return { device, available: true };
    if (device === 'dml' && platform !== 'win32')
      return { device, available: false, reason: 'DirectML exists on Windows only' };
    const name = device;
    if (!listed.has(name))
      return {
        device,
        available: false,
        reason: `this onnxruntime-node build has no ${name} provider`,
      };
    if (device === 'cuda' && listed.get(name) === false && !cudaInstalled())
      return {
        device,
        available: false,
        reason:
          "onnxruntime-node's CUDA 12 provider is not installed (npm run setup:native -- --onnxruntime-cuda, where the network reaches its download host)",
      };
    return { device, available: true };
  });
}

/** True when onnxruntime-node's CUDA provider library sits beside its binding (its install step ran). */
function cudaInstalled(): boolean {
  try {
    const root = dirname(require.resolve('onnxruntime-node/package.json'));
    return existsSync(
      join(root, 'bin', 'napi-v6', process.platform, process.arch, 'libonnxruntime_providers_cuda.so'),
    );
  } catch {
    return false;
  }
}

/** True for devices other than the CPU. */
export function isGpuDevice(device: Device): boolean {
  return device !== 'cpu';
}
