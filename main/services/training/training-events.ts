// The progress events a training run emits, for the CLI, the UI and the metrics log alike.
// Plain data (JSON-serialisable). Must not import electron or anything from main/electron, main/backend, main/server,
// main/cli or renderer.

import type { FeatureCachePrecision } from '../transfer/feature-cache.js';

export type RunStatus =
  'created' | 'running' | 'paused' | 'cancelled' | 'completed' | 'stopped-early' | 'failed';

export type TrainingEvent =
  | {
      type: 'started';
      runDir: string;
      /** What does the arithmetic: 'onnxruntime' or the TensorFlow.js backend (tensorflow, wasm, cpu). */
      backend: string;
      /** The training engine: 'tfjs' or 'onnxruntime' (training-engine.ts). */
      engine: string;
      /** The onnxruntime device the steps run on (cpu, webgpu, dml, cuda). */
      device?: string;
      classes: string[];
      trainImages: number;
      valImages: number;
      epochs: number;
      stepsPerEpoch: number;
      resumedAt?: { epoch: number; stepInEpoch: number };
    }
  | {
      type: 'step';
      epoch: number;
      step: number;
      stepsPerEpoch: number;
      globalStep: number;
      loss: number;
      accuracy: number;
      lr: number;
      imagesPerSecond: number;
      etaSeconds: number;
    }
  | {
      type: 'epoch';
      epoch: number;
      epochs: number;
      trainLoss: number;
      trainAccuracy: number;
      valLoss: number;
      valAccuracy: number;
      trainSeconds: number;
      improved: boolean;
    }
  | { type: 'checkpoint'; path: string; epoch: number; stepInEpoch: number }
  /** Backbone features being computed once per image (frozen pretrained backbone): `done` of `total`. */
  | {
      type: 'caching';
      split: 'train' | 'val';
      done: number;
      total: number;
      /** How the cache stores the features (TrainingConfig.featureCachePrecision). */
      precision: FeatureCachePrecision;
    }
  | { type: 'skipped-file'; path: string; reason: string; message: string }
  | { type: 'warning'; message: string }
  | { type: 'evaluated'; split: string; accuracy: number; images: number; path: string }
  | { type: 'finished'; status: RunStatus; runDir: string; message: string };

export type TrainingEventListener = (event: TrainingEvent) => void;
