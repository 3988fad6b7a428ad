// The events the Node side pushes to every connected UI: training progress, run status changes, scan
// progress, classification jobs, model exports, comparisons and backbone downloads. Pure zod schemas; must not import Node, electron, services or anything above main/api.
import { z } from 'zod';
import { BackboneDownloadEventSchema } from './backbone-schemas.js';
import { ClassifyJobSchema, ExportStageSchema } from './classify-schemas.js';
import { CompareEventSchema, CompareJobSchema } from './compare-schemas.js';
import { RunSummarySchema, TrainingEventSchema } from './training-schemas.js';

export const ApiEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('training'), runId: z.string(), event: TrainingEventSchema }),
  z.object({ type: z.literal('run'), run: RunSummarySchema }),
  z.object({
    type: z.literal('scan-progress'),
    path: z.string(),
    seen: z.number().int(),
    probed: z.number().int(),
    problems: z.number().int(),
    walkDone: z.boolean(),
  }),
  /** A classification job started, made progress or ended. */
  z.object({ type: z.literal('classify'), job: ClassifyJobSchema }),
  /** An export in the worker started, finished or failed; the message says what happens in plain words. */
  z.object({ type: z.literal('export'), runId: z.string(), stage: ExportStageSchema, message: z.string() }),
  /** A comparison started, changed model or phase, or ended (at most a few times a second while it trains). */
  z.object({ type: z.literal('compare-job'), job: CompareJobSchema }),
  /** Every event of a running comparison (each model's training steps and epochs included). */
  z.object({ type: z.literal('compare'), compareId: z.string(), event: CompareEventSchema }),
  /** A backbone download's progress (at most a few times a second), and how it ended. */
  z.object({ type: z.literal('backbone-download'), event: BackboneDownloadEventSchema }),
]);
export type ApiEvent = z.infer<typeof ApiEventSchema>;
export type ApiEventListener = (event: ApiEvent) => void;
