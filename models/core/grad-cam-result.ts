// What a Grad-CAM explanation of a batch is, whichever engine computed it (onnx-train/grad-cam-session.ts
// on onnxruntime, tfjs/grad-cam.ts on TensorFlow.js). Types only.

export interface GradCamResult {
  /** One map per image, row-major height x width, values in [0, 1]. */
  maps: Float32Array[];
  height: number;
  width: number;
  /** The explained class of each image. */
  classIndices: number[];
  /** Softmax probabilities, [N * classes] row-major. */
  probabilities: Float32Array;
}
