// The onnxruntime training engine: models/onnx-train's whole-step graph (forward, backward, optimiser
// update, BatchNorm running averages in one onnxruntime run) behind the TrainingEngine interface, with
// evaluation on onnxruntime too (onnx-evaluation-engine.ts). Must not import electron or anything from
// main/electron, main/backend, main/server, main/cli or renderer.

import { createOnnxTrainer, type OnnxTrainer } from '../../../models/onnx-train/trainer.js';
import { evaluateOnOnnxruntime } from './onnx-evaluation-engine.js';
import type { EngineSetup, TrainingEngine } from './training-engine-interface.js';

/**
 * The TrainingEngine of an ONNX trainer: its weights and optimiser state (read back from the device
 * first when they live there) and evaluation of the full model on onnxruntime. `step` trains on images.
 */
export function onnxTrainerEngine(trainer: OnnxTrainer, setup: EngineSetup): TrainingEngine {
  const hostWeights = async () => {
    await trainer.syncFromDevice();
    return trainer.getWeights();
  };
  return {
    name: 'onnxruntime',
    backend: 'onnxruntime',
    device: trainer.device,
    step: (batch, hyper) => trainer.step(batch.x, batch.labels, hyper),
    weights: hostWeights,
    optimizerState: async () => {
      await trainer.syncFromDevice();
      return trainer.getOptimizerState();
    },
    evaluate: async (items, options, weights) =>
      evaluateOnOnnxruntime(
        setup.spec,
        weights ?? (await hostWeights()),
        items,
        options,
        setup.intraOpThreads,
        setup.device,
      ),
    dispose: () => trainer.dispose(),
  };
}

/** An ONNX trainer for the setup (on images, or on cached features), its optimiser state restored. */
export async function openOnnxTrainer(
  setup: EngineSetup,
  source: 'images' | 'features' = 'images',
): Promise<OnnxTrainer> {
  const trainer = await createOnnxTrainer(setup.spec, setup.weights, {
    frozenBlocks: setup.frozenBlocks,
    source,
    // A half-precision cache's bits go in as they are on the CPU; a GPU provider may lack float16.
    featureType:
      source === 'features' &&
      (setup.featurePrecision ?? 'float16') === 'float16' &&
      (setup.device ?? 'cpu') === 'cpu'
        ? 'float16'
        : 'float32',
    inputLayout: 'nhwc', // the batch stream's layout
    optimizer: setup.optimizer,
    labelSmoothing: setup.labelSmoothing,
    intraOpThreads: setup.intraOpThreads,
    device: setup.device,
    failAtStep: setup.failAtStep,
    // On a GPU the state stays on the device between steps; read back for checkpoints and evaluation.
    keepStateOnDevice: true,
  });
  try {
    if (setup.optimizerState) trainer.setOptimizerState(setup.optimizerState);
  } catch (error) {
    await trainer.dispose();
    throw error;
  }
  return trainer;
}

export async function createOnnxTrainingEngine(setup: EngineSetup): Promise<TrainingEngine> {
  return onnxTrainerEngine(await openOnnxTrainer(setup), setup);
}
