// Opens a model for inference, checked first when its sidecar's expectations are given: the file is read
// and checked once by check-model.ts and the runtime loads those same bytes (or the path, for weights in
// external files). Used on the calling thread and in the inference worker alike. Must not import
// electron or anything from main/electron, main/backend, main/server, main/cli or renderer.
import type { Device } from '../../../models/onnx/device.js';
import { openOnnxSession, type OnnxSession } from '../../../models/onnx/session.js';
import { loadCheckedModel, type ModelExpectations } from './check-model.js';

export interface OpenedSession {
  session: OnnxSession;
  /** Time spent reading and checking the file (null when it was not checked). */
  checkMs: number | null;
}

/** Throws ModelFileError for a file our check refuses, OnnxError ('runtime') when the runtime does. */
export async function openCheckedSession(
  modelPath: string,
  threads: number,
  expect: ModelExpectations | undefined,
  device?: Device,
): Promise<OpenedSession> {
  if (!expect)
    return { session: await openOnnxSession(modelPath, { intraOpThreads: threads, device }), checkMs: null };
  const checked = await loadCheckedModel(modelPath, expect);
  return {
    session: await openOnnxSession(checked.source, { intraOpThreads: threads, device }),
    checkMs: checked.checkMs,
  };
}
