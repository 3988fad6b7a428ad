// The TensorFlow.js training engine: models/train/step.ts's trainStep and models/train/optimizer.ts on
// AttentionVgg, on whichever TensorFlow.js backend selectBackend made active; evaluation through
// evaluate-model.ts on the same model. Must not import electron or anything from main/electron,
// main/backend, main/server, main/cli or renderer.

import { AttentionVgg } from '../../../models/tfjs/model.js';
import { Optimizer } from '../../../models/train/optimizer.js';
import { trainStepOnArrays } from '../../../models/tfjs/predict.js';
import { evaluateModel } from './evaluate-model.js';
import type { EngineSetup, TrainingEngine } from './training-engine-interface.js';

/** The engine, with the model and optimiser it trains (the cached-features engine steps them too). */
export interface TfjsTrainingEngine extends TrainingEngine {
  readonly model: AttentionVgg;
  readonly optimizer: Optimizer;
}

export function createTfjsTrainingEngine(setup: EngineSetup, backend: string): TfjsTrainingEngine {
  const { spec } = setup;
  const model = AttentionVgg.fromWeights(spec, setup.weights);
  const optimizer = new Optimizer(setup.optimizer);
  if (setup.optimizerState) optimizer.setState(setup.optimizerState);
  return {
    name: 'tfjs',
    device: 'cpu',
    backend,
    model,
    optimizer,
    async step(batch, hyper) {
      return trainStepOnArrays(model, optimizer, batch.x, batch.labels, {
        hyper,
        frozenBlocks: setup.frozenBlocks,
        labelSmoothing: setup.labelSmoothing,
      });
    },
    weights: () => model.toWeights(),
    optimizerState: () => optimizer.getState(),
    async evaluate(items, options, weights) {
      if (weights) model.assignWeights(weights);
      return evaluateModel(model, items, options);
    },
    async dispose() {
      optimizer.dispose();
      model.dispose();
    },
  };
}
