// What inference on one batch returns, whichever engine runs it (tfjs/predict.ts on TensorFlow.js,
// main/services/training/onnx-evaluation-engine.ts on onnxruntime): the type the evaluation loop takes.
// Types only.

/** What a predictor returns for one batch of N images and K classes. */
export interface BatchPrediction {
  /** [N, K] row-major logits (before softmax). */
  logits: Float32Array;
  /** Each attention level's maps for the batch ([N, h, w] each); empty for a model without attention. */
  maps: { shape: [number, number, number]; data: Float32Array }[];
}

/** Inference on one batch of `n` normalised NHWC images (the batch stream's layout), whatever runs it. */
export type BatchPredictor = (x: Float32Array, n: number) => Promise<BatchPrediction>;
