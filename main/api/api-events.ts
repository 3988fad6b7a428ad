// The events the Node side pushes to every connected UI: training progress, run status changes and scan
// progress. Pure zod schemas; must not import Node, electron, services or anything above main/api.
import { z } from 'zod';
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
]);
export type ApiEvent = z.infer<typeof ApiEventSchema>;
export type ApiEventListener = (event: ApiEvent) => void;
