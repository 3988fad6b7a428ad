// The error of running an exported model: the inference worker failed or stopped, a bad setting, a
// model closed twice. One class for the classification runner (inference-runner.ts) and the app's
// inference worker client (jobs/inference-client.ts). Must not import electron or anything from
// main/electron, main/backend, main/server, main/cli or renderer.

export class InferenceError extends Error {
  override name = 'InferenceError';
}
