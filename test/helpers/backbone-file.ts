// A pretrained-backbone file for tests, without Python: a width-1.0 VGG16_bn (the only width ImageNet
// weights have) with seeded weights and BatchNorm statistics, written as our own backbone sub-graph
// (BatchNorm folded), the small S=32 model that trains from it, and a poller for conditions.
import { validateSpec, type ModelSpec } from '../../models/core/spec.js';
import { exportBackboneOnnx } from '../../models/onnx/export.js';
import { testWeights } from './weights.js';

/** The S=32, width-1.0 attention model a test trains from a backbone file. */
export function backboneTestSpec(numClasses = 2): ModelSpec {
  return validateSpec({
    inputSize: 32,
    width: 1,
    numClasses,
    attention: true,
    compatibility: 'pc',
    normalisation: 'softmax',
  });
}

/** The bytes of a backbone ONNX file (about 56 MiB) with weights seeded by `seed`. */
export function backboneFileBytes(seed: number, numClasses = 2): Uint8Array {
  const spec = backboneTestSpec(numClasses);
  return exportBackboneOnnx(spec, testWeights(spec, seed));
}
