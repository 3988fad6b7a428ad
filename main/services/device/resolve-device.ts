// Turns the device a user asked for (cpu, webgpu, dml, cuda or auto; CLI --device, ATTNVGG_DEVICE, the
// API) into the device onnxruntime runs on, with the reasons a user sees in run.json and `attnvgg info`.
// An explicit GPU device that this machine cannot offer falls back to the CPU with the reason. `auto`
// takes a GPU only where it beats the CPU: onnxruntime-node reports no adapter, and software adapters
// (lavapipe, SwiftShader, WARP) are slower than the CPU provider, so it times a small training step on
// each GPU device against the CPU, checks the GPU's result against the CPU's once, and caches the
// verdict per machine and app version in the workspace (device-verdict.json).
// Must not import electron or anything from main/electron, main/backend, main/server, main/cli or renderer.

import { cpus, hostname } from 'node:os';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelSpec } from '../../../models/core/spec.js';
import { createRandom } from '../../../models/core/random.js';
import { initWeights } from '../../../models/core/weights.js';
import {
  deviceAvailability,
  DEVICE_ENV_VAR,
  GPU_DEVICES,
  requestedDevice,
  type Device,
  type DeviceChoice,
} from '../../../models/onnx/device.js';
import { createOnnxTrainer } from '../../../models/onnx-train/trainer.js';
import { APP_VERSION } from '../app-version.js';
import { writeJsonAtomic } from '../storage/atomic-write.js';

export interface DeviceResolution {
  /** What was asked for. */
  requested: DeviceChoice;
  /** What runs. */
  device: Device;
  /** Why, in words a user can act on. */
  reasons: string[];
  /** The adapter's name when the provider reports one (onnxruntime-node 1.30 reports none). */
  adapter?: string;
}

/** One device's timing in an `auto` verdict. */
export interface DeviceTiming {
  device: Device;
  /** Median milliseconds per step after the first (shader compilation excluded); absent when it failed. */
  msPerStep?: number;
  /** Why it was not usable (no adapter, wrong result), when it was not. */
  failure?: string;
}

export interface DeviceVerdict {
  format: 'attnvgg-device-verdict/1';
  machine: string;
  appVersion: string;
  measuredAt: string;
  device: Device;
  reasons: string[];
  timings: DeviceTiming[];
}

/** The network, batch and step count `auto` times (small: a run's first seconds, not minutes). */
export interface ProbeSettings {
  spec: ModelSpec;
  batch: number;
  steps: number;
}

export const DEFAULT_PROBE: ProbeSettings = {
  spec: {
    inputSize: 64,
    width: 0.25,
    numClasses: 4,
    attention: true,
    compatibility: 'pc',
    normalisation: 'softmax',
  },
  batch: 8,
  steps: 3,
};

export interface ResolveDeviceOptions {
  /** The device asked for (CLI --device); absent: ATTNVGG_DEVICE, else `fallback`. */
  device?: string;
  /** What to use when nothing asks (default 'cpu'). */
  fallback?: DeviceChoice;
  /** Where device-verdict.json is kept (the workspace); absent: `auto` measures every time. */
  cacheDir?: string;
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  /** What `auto` times (tests use a tinier network). */
  probe?: ProbeSettings;
}

export const VERDICT_FILE = 'device-verdict.json';

/** This machine, as far as a cached verdict cares: host, CPU model, cores, OS and architecture. */
export function machineKey(): string {
  const cpu = cpus();
  return `${hostname()} | ${cpu[0]?.model ?? 'cpu'} x${cpu.length} | ${process.platform}-${process.arch}`;
}

async function readVerdict(cacheDir: string): Promise<DeviceVerdict | null> {
  try {
    const v = JSON.parse(await readFile(join(cacheDir, VERDICT_FILE), 'utf8')) as DeviceVerdict;
    return v.format === 'attnvgg-device-verdict/1' &&
      v.machine === machineKey() &&
      v.appVersion === APP_VERSION
      ? v
      : null;
  } catch {
    return null;
  }
}

function describe(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0];
}

/**
 * Times `steps` training steps on `device` after one untimed step (shader compilation), and returns the
 * median time with the weights after the first step, for the check against the CPU.
 */
async function timeSteps(
  device: Device,
  probe: ProbeSettings,
): Promise<{ msPerStep: number; firstLoss: number; weights: Float32Array }> {
  const weights = initWeights(probe.spec, createRandom(7));
  const trainer = await createOnnxTrainer(probe.spec, weights, {
    device,
    optimizer: { name: 'sgd', momentum: 0.9 },
  });
  try {
    const s = probe.spec.inputSize;
    const r = createRandom(8);
    const x = Float32Array.from({ length: probe.batch * 3 * s * s }, () => r.normal());
    const labels = Int32Array.from({ length: probe.batch }, (_, i) => i % probe.spec.numClasses);
    const first = await trainer.step(x, labels, { lr: 0.01 });
    const after = trainer.getWeights().get('head.weight')?.data ?? new Float32Array();
    const times: number[] = [];
    for (let k = 0; k < probe.steps; k++) {
      const t0 = performance.now();
      await trainer.step(x, labels, { lr: 0.01 });
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    return { msPerStep: times[Math.floor(times.length / 2)], firstLoss: first.loss, weights: after.slice() };
  } finally {
    await trainer.dispose();
  }
}

/** Measures every available GPU device against the CPU and decides. */
export async function measureVerdict(
  probe: ProbeSettings = DEFAULT_PROBE,
  platform: NodeJS.Platform = process.platform,
): Promise<DeviceVerdict> {
  const cpu = await timeSteps('cpu', probe);
  const timings: DeviceTiming[] = [{ device: 'cpu', msPerStep: cpu.msPerStep }];
  const reasons: string[] = [];
  let best: Device = 'cpu';
  let bestMs = cpu.msPerStep;
  for (const a of deviceAvailability(platform)) {
    if (!GPU_DEVICES.includes(a.device)) continue;
    if (!a.available) {
      timings.push({ device: a.device, failure: a.reason });
      continue;
    }
    try {
      const gpu = await timeSteps(a.device, probe);
      const lossOff = Math.abs(gpu.firstLoss - cpu.firstLoss) / Math.max(1e-6, Math.abs(cpu.firstLoss));
      let diff = 0;
      let scale = 0;
      for (let i = 0; i < cpu.weights.length; i++) {
        diff = Math.max(diff, Math.abs(gpu.weights[i] - cpu.weights[i]));
        scale = Math.max(scale, Math.abs(cpu.weights[i]));
      }
      if (!(lossOff <= 1e-3) || !(diff <= 1e-3 * scale)) {
        timings.push({
          device: a.device,
          msPerStep: gpu.msPerStep,
          failure: `its result differs from the CPU's (loss ${gpu.firstLoss} against ${cpu.firstLoss})`,
        });
        continue;
      }
      timings.push({ device: a.device, msPerStep: gpu.msPerStep });
      if (gpu.msPerStep < bestMs) {
        best = a.device;
        bestMs = gpu.msPerStep;
      }
    } catch (e) {
      timings.push({ device: a.device, failure: describe(e) });
    }
  }
  const size = `S=${probe.spec.inputSize}, width ${probe.spec.width}, batch ${probe.batch}`;
  const cpuMs = cpu.msPerStep.toFixed(0);
  for (const t of timings.filter((t) => t.device !== 'cpu'))
    reasons.push(
      t.failure
        ? `${t.device}: not usable (${t.failure})`
        : `${t.device}: ${(t.msPerStep as number).toFixed(0)} ms per training step against the CPU's ${cpuMs} ms (${size})`,
    );
  reasons.unshift(
    best === 'cpu'
      ? 'auto: no GPU device beats the CPU here, so the CPU trains'
      : `auto: ${best} is the fastest device here`,
  );
  return {
    format: 'attnvgg-device-verdict/1',
    machine: machineKey(),
    appVersion: APP_VERSION,
    measuredAt: new Date().toISOString(),
    device: best,
    reasons,
    timings,
  };
}

/** Resolves the device to run on; never throws for a device this machine lacks (falls back to the CPU). */
export async function resolveDevice(options: ResolveDeviceOptions = {}): Promise<DeviceResolution> {
  const env = options.env ?? process.env;
  const requested = requestedDevice(options.device, env, options.fallback ?? 'cpu');
  const how =
    options.device !== undefined
      ? `--device ${requested}`
      : env[DEVICE_ENV_VAR]?.trim()
        ? `${DEVICE_ENV_VAR}=${requested}`
        : 'the default';
  if (requested === 'cpu') return { requested, device: 'cpu', reasons: [`cpu: ${how}`] };
  if (requested !== 'auto') {
    const a = deviceAvailability(options.platform).find((d) => d.device === requested);
    if (a && !a.available)
      return {
        requested,
        device: 'cpu',
        reasons: [`${requested} was asked for (${how}) but ${a.reason}: the CPU runs instead`],
      };
    return { requested, device: requested, reasons: [`${requested}: ${how}`] };
  }
  const cached = options.cacheDir ? await readVerdict(options.cacheDir) : null;
  const verdict = cached ?? (await measureVerdict(options.probe, options.platform));
  if (!cached && options.cacheDir)
    await writeJsonAtomic(join(options.cacheDir, VERDICT_FILE), verdict).catch(() => undefined);
  const when = cached ? ` (measured ${verdict.measuredAt.slice(0, 10)}, cached)` : '';
  return {
    requested,
    device: verdict.device,
    reasons: verdict.reasons.map((r, i) => (i === 0 ? r + when : r)),
  };
}

/** A device resolution as lines of text for `attnvgg info`. */
export function describeDevice(r: DeviceResolution): string {
  const lines = [
    `Device: ${r.device}${r.adapter ? ` (${r.adapter})` : ''}${r.requested !== r.device ? ` (asked: ${r.requested})` : ''}`,
  ];
  for (const reason of r.reasons) lines.push(`  - ${reason}`);
  return lines.join('\n');
}
