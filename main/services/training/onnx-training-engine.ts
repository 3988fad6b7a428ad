// The onnxruntime training engine: models/onnx-train's whole-step graph (forward, backward, optimiser
// update, BatchNorm running averages in one onnxruntime run) behind the TrainingEngine interface, with
// evaluation on onnxruntime too (onnx-evaluation-engine.ts). Must not import electron or anything from
// main/electron, main/server, main/cli or renderer.

import { createOnnxTrainer } from '../../../models/onnx-train/trainer.js';
import { evaluateOnOnnxruntime } from './onnx-evaluation-engine.js';
import type { EngineSetup, TrainingEngine } from './training-engine-interface.js';

export async function createOnnxTrainingEngine(setup: EngineSetup): Promise<TrainingEngine> {
  const trainer = await createOnnxTrainer(setup.spec, setup.weights, {
    frozenBlocks: setup.frozenBlocks,
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
  return {
    name: 'onnxruntime',
    backend: 'onnxruntime',
    device: trainer.device,
    step: (batch, hyper) => trainer.step(batch.x, batch.labels, hyper),
    weights: async () => {
      await trainer.syncFromDevice();
      return trainer.getWeights();
    },
    optimizerState: async () => {
      await trainer.syncFromDevice();
      return trainer.getOptimizerState();
    },
    evaluate: async (items, options, weights) =>
      evaluateOnOnnxruntime(
        setup.spec,
        weights ?? (await trainer.syncFromDevice().then(() => trainer.getWeights())),
        items,
        options,
        setup.intraOpThreads,
        setup.device,
      ),
    dispose: () => trainer.dispose(),
  };
}
