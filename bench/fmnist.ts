// The Fashion-MNIST recipe of BENCHMARKS.md on this engine: 600 training images per class (file order),
// all 10,000 test images, 28 -> 64 px bilinear (half-pixel centres, as PyTorch's align_corners=False),
// grey to 3 channels, normalised with mean 0.286 and std 0.353; S=64, width 0.25, pc/softmax; SGD with
// coupled weight decay 5e-4 and one-cycle around lr 0.05 (PyTorch's OneCycleLR defaults); batch 32,
// 5 epochs, random horizontal flip. Prints one JSON line per epoch: test accuracy and training seconds
// (evaluation excluded), like the peer's `fmnist` command. `--engine onnxruntime` trains with the
// onnxruntime engine (models/onnx-train, the training loop's automatic choice without native TensorFlow)
// and evaluates the exported model on onnxruntime; the images are still prepared with TensorFlow.js.
// Run: node --import tsx bench/fmnist.ts [--engine tfjs|onnxruntime] [--backend wasm|cpu|tensorflow]
//      [--epochs 5] [--no-attention] [--threads N]
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { createRandom, permutation } from '../models/core/random.js';
import { initWeights } from '../models/core/weights.js';
import { selectBackend, type BackendName } from '../models/tfjs/backend.js';
import { AttentionVgg } from '../models/tfjs/model.js';
import { Optimizer } from '../models/train/optimizer.js';
import { scheduleAt } from '../models/train/schedule.js';
import { predictBatch, trainStep } from '../models/train/step.js';
import { createOnnxTrainer } from '../models/onnx-train/trainer.js';
import { exportOnnx } from '../models/onnx/export.js';
import { openOnnxSession } from '../models/onnx/session.js';
import { peakRssMb } from '../models/bench/measure-tfjs-training.js';
import { loadFashionMnist, type FashionMnistSet } from '../main/services/datasets/fashion-mnist.js';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'wasm' },
    engine: { type: 'string', default: 'tfjs' },
    threads: { type: 'string' },
    epochs: { type: 'string', default: '5' },
    'per-class': { type: 'string', default: '600' },
    'no-attention': { type: 'boolean', default: false },
  },
});
const S = 64;
const epochs = Number(values.epochs);
const batch = 32;
const report = await selectBackend({ prefer: values.backend as BackendName });
const onnx = values.engine === 'onnxruntime';
if (!onnx && values.engine !== 'tfjs')
  throw new Error(`Unsupported --engine "${values.engine}". Should be one of: tfjs, onnxruntime`);
const threads = values.threads === undefined ? undefined : Number(values.threads);

/** 28x28 grey -> normalised S x S grey, float32 [n, S, S, 1]; in chunks to bound the wasm heap. */
function prepare(set: FashionMnistSet): tf.Tensor4D {
  const chunks: tf.Tensor4D[] = [];
  const pixels = set.height * set.width;
  for (let i = 0; i < set.count; i += 1000) {
    const n = Math.min(1000, set.count - i);
    chunks.push(
      tf.tidy(() => {
        const raw = set.images.subarray(i * pixels, (i + n) * pixels);
        const x = tf.div(tf.tensor4d(raw, [n, set.height, set.width, 1], 'float32'), 255);
        const up = tf.image.resizeBilinear(x as tf.Tensor4D, [S, S], false, true);
        return tf.div(tf.sub(up, 0.286), 0.353) as tf.Tensor4D;
      }),
    );
  }
  const all = tf.concat(chunks);
  tf.dispose(chunks);
  return all;
}

const train = await loadFashionMnist({ split: 'train', perClass: Number(values['per-class']) });
const testSet = await loadFashionMnist({ split: 'test' });
const xTrain = prepare(train);
const xTest = prepare(testSet);
const spec = {
  inputSize: S,
  width: 0.25,
  numClasses: 10,
  attention: !values['no-attention'],
  compatibility: 'pc',
  normalisation: 'softmax',
} as const;
const initial = initWeights(spec, createRandom(0));
const optimizerConfig = { name: 'sgd', momentum: 0.9, weightDecay: 5e-4 } as const;
const model = onnx ? null : AttentionVgg.fromWeights(spec, initial);
const optimizer = onnx ? null : new Optimizer(optimizerConfig);
const trainer = onnx
  ? await createOnnxTrainer(spec, initial, {
      inputLayout: 'nhwc',
      optimizer: optimizerConfig,
      intraOpThreads: threads,
    })
  : null;

/** Test-set accuracy of the current weights on onnxruntime (the exported model, NCHW input). */
async function onnxTestCorrect(): Promise<number> {
  const session = await openOnnxSession(exportOnnx(spec, trainer!.getWeights()), { intraOpThreads: threads });
  let correct = 0;
  try {
    for (let i = 0; i < testSet.count; i += 100) {
      const n = Math.min(100, testSet.count - i);
      const x = tf.tidy(() =>
        tf.transpose(tf.tile(tf.slice(xTest, [i, 0, 0, 0], [n, S, S, 1]), [1, 1, 1, 3]), [0, 3, 1, 2]),
      );
      const data = Float32Array.from(x.dataSync());
      x.dispose();
      const out = await session.run({ shape: [n, 3, S, S], data }, { outputs: ['logits'] });
      for (let k = 0; k < n; k++) {
        let best = 0;
        for (let c = 1; c < 10; c++)
          if (out.logits.data[k * 10 + c] > out.logits.data[k * 10 + best]) best = c;
        if (best === testSet.labels[i + k]) correct += 1;
      }
    }
  } finally {
    await session.release();
  }
  return correct;
}
const stepsPerEpoch = Math.ceil(train.count / batch);
const total = epochs * stepsPerEpoch;
const random = createRandom(1);
let trainSeconds = 0;
let step = 0;
const rss = () => Math.round(process.memoryUsage().rss / 2 ** 20);
let peakRss = rss();
for (let epoch = 0; epoch < epochs; epoch++) {
  const order = permutation(train.count, random);
  const started = performance.now();
  for (let i = 0; i < train.count; i += batch) {
    const idx = order.slice(i, i + batch);
    const flips = idx.map(() => random.next() < 0.5);
    const [x, y] = tf.tidy(() => {
      const picked = tf.gather(xTrain, tf.tensor1d(idx, 'int32'));
      const mask = tf.reshape(tf.tensor1d(flips.map(Number), 'bool'), [idx.length, 1, 1, 1]);
      const flipped = tf.where(mask, tf.reverse(picked, 2), picked);
      return [
        tf.tile(flipped, [1, 1, 1, 3]) as tf.Tensor4D,
        tf.tensor1d(
          idx.map((k) => train.labels[k]),
          'int32',
        ),
      ];
    });
    const hyper = scheduleAt({ name: 'onecycle', lr: 0.05 }, step, total);
    const stepHyper = { lr: hyper.lr, momentum: hyper.momentum };
    let loss: number;
    if (trainer) {
      const xs = Float32Array.from(x.dataSync());
      const ys = Int32Array.from(y.dataSync());
      loss = (await trainer.step(xs, ys, stepHyper)).loss;
    } else loss = trainStep(model!, optimizer!, x, y, { hyper: stepHyper }).loss;
    tf.dispose([x, y]);
    if (!Number.isFinite(loss)) throw new Error(`diverged at step ${step}`);
    step += 1;
    if (step % 20 === 0) peakRss = Math.max(peakRss, rss());
  }
  trainSeconds += (performance.now() - started) / 1000;
  let correct = trainer ? await onnxTestCorrect() : 0;
  for (let i = 0; !trainer && i < testSet.count; i += 100) {
    const n = Math.min(100, testSet.count - i);
    const x = tf.tidy(
      () => tf.tile(tf.slice(xTest, [i, 0, 0, 0], [n, S, S, 1]), [1, 1, 1, 3]) as tf.Tensor4D,
    );
    const { probabilities } = predictBatch(model!, x);
    x.dispose();
    for (let k = 0; k < n; k++) {
      let best = 0;
      for (let c = 1; c < 10; c++) if (probabilities[k * 10 + c] > probabilities[k * 10 + best]) best = c;
      if (best === testSet.labels[i + k]) correct += 1;
    }
  }
  peakRss = Math.max(peakRss, rss());
  console.log(
    JSON.stringify({
      engine: 'attnvgg',
      training_engine: onnx ? 'onnxruntime' : 'tfjs',
      backend: onnx ? 'onnxruntime' : report.chosen,
      epoch: epoch + 1,
      test_acc: Number((correct / testSet.count).toFixed(4)),
      train_seconds: Number(trainSeconds.toFixed(1)),
      train_img_s: Number(((train.count * (epoch + 1)) / trainSeconds).toFixed(1)),
      peak_rss_mb: Math.max(peakRss, Math.round(peakRssMb())),
      attention: spec.attention,
    }),
  );
}
await trainer?.dispose();
