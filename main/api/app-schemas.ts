// The app-info and models parts of the API contract: the backend report for the UI, the exported models
// and the result of an export (typed "not available" answers where a feature can be missing).
// Pure zod schemas; must not import Node, electron, services or anything above main/api.
import { z } from 'zod';

export const BackendReportSchema = z.object({
  chosen: z.string(),
  attempts: z.array(z.object({ name: z.string(), ok: z.boolean(), reason: z.string().optional() })),
  threads: z.number().optional(),
  notes: z.array(z.string()),
});
export type BackendReport = z.infer<typeof BackendReportSchema>;

/**
 * Where onnxruntime runs (models/onnx/device.ts names the same choices; a unit test keeps them equal):
 * auto takes a GPU only where a timed step beats the CPU.
 */
export const DEVICE_CHOICES = ['auto', 'cpu', 'webgpu', 'dml', 'cuda'] as const;
export const DeviceChoiceSchema = z.enum(DEVICE_CHOICES, {
  message: `The device is one of: ${DEVICE_CHOICES.join(', ')}.`,
});
export type DeviceChoice = z.infer<typeof DeviceChoiceSchema>;

/** The device a new run would use (ATTNVGG_DEVICE or cpu), and which this machine offers. */
export const DeviceReportSchema = z.object({
  requested: z.string(),
  device: z.string(),
  reasons: z.array(z.string()),
  adapter: z.string().optional(),
  available: z.array(z.object({ device: z.string(), available: z.boolean(), reason: z.string().optional() })),
});
export type DeviceReport = z.infer<typeof DeviceReportSchema>;

export const AppInfoSchema = z.object({
  version: z.string(),
  platform: z.string(),
  node: z.string(),
  cpus: z.number().int(),
  cpu: z.string(),
  memoryGiB: z.number(),
  workspace: z.string(),
  /** 'electron' in the desktop window, 'browser' when served over HTTP. */
  shell: z.enum(['electron', 'browser']),
  /** The TensorFlow.js backend (attention maps; training when native TensorFlow loads), or why none loaded. */
  backend: BackendReportSchema.nullable(),
  /** The engine a new training run would use with the default settings ('tfjs' or 'onnxruntime'), and why. */
  trainingEngine: z.object({ engine: z.string(), reasons: z.array(z.string()) }).optional(),
  /** The onnxruntime device a new run would use, and why. */
  device: DeviceReportSchema.optional(),
  backendError: z.string().optional(),
});
export type AppInfo = z.infer<typeof AppInfoSchema>;

/** What a feature that is not built yet answers, in plain words. */
export const NotAvailableSchema = z.object({
  available: z.literal(false),
  message: z.string(),
});

export const ModelEntrySchema = z.object({
  id: z.string(),
  path: z.string(),
  classes: z.array(z.string()),
  inputSize: z.number().int(),
  createdAt: z.string(),
  fromRun: z.string().optional(),
});
export type ModelEntry = z.infer<typeof ModelEntrySchema>;

export const ModelListSchema = z.union([
  NotAvailableSchema,
  z.object({ available: z.literal(true), models: z.array(ModelEntrySchema), folder: z.string() }),
]);
export type ModelList = z.infer<typeof ModelListSchema>;

export const ExportResultSchema = z.union([
  NotAvailableSchema,
  z.object({ available: z.literal(true), model: ModelEntrySchema }),
]);
