// Writes Grad-CAM (Selvaraju et al., 2017) at conv 13 as one ONNX graph (opset 17, IR 8), straight from the
// model spec, with the training graph's layers and tape: the forward pass (forward.ts) in inference mode
// (every BatchNorm on running statistics), the logits through the attention head (or the plain head), the
// backward from y = sum over the batch of logits * one-hot(class) down to A = conv 13's ReLU output (the
// l3 tap, which also feeds pool5 and, with attention, level 3), then, per image,
//   alpha_k = mean over positions of dy/dA_k,   cam = ReLU(sum_k alpha_k A_k),   cam / max(cam)
// (0 everywhere when the maximum is 0), as tfjs/grad-cam.ts does on TensorFlow.js.
// On running statistics each image's logits depend on its own activations only, so one backward gives
// every image's gradient.
// Pure: imports models/core and the ONNX writer; nothing from main/, no runtime.

import { parameterLayout, validateSpec, type ModelSpec } from '../core/spec.js';
import { DataType, type ModelProto } from '../onnx/proto.js';
import { OnnxTrainError } from './errors.js';
import { writeBackbone, writeHead } from './forward.js';
import { attr, generatedModel, GraphWriter } from './graph-writer.js';
import { firstMaxMask, POOL_BACKWARDS, type LayerContext, type PoolBackward } from './layers.js';
import { Tape } from './tape.js';
import type { InputLayout } from './train-graph.js';

export interface GradCamGraphOptions {
  /** Layout of the input `x`: 'nchw' [N, 3, S, S] (default) or 'nhwc' [N, S, S, 3] (transposed inside). */
  inputLayout?: InputLayout;
  /** How pool5's gradient finds each window's maximum (default 'indices'; 'argmax' on GPU providers). */
  poolBackward?: PoolBackward;
}

/** Graph input and output names other than the weights (which keep their PyTorch state_dict names). */
export const GRAD_CAM_IO = {
  x: 'x',
  /** float32 [N]: the class to explain per image, a whole number, or -1 for the predicted class. */
  classes: 'explain_classes',
  /** float32 [N, S/16, S/16]: the maps, each in [0, 1]. */
  cam: 'cam',
  /** float32 [N]: the class each map explains (a whole number). */
  chosen: 'chosen_classes',
  /** float32 [N, K]: softmax of the logits. */
  probabilities: 'probabilities',
} as const;

export interface GradCamGraph {
  model: ModelProto;
  spec: ModelSpec;
  inputLayout: InputLayout;
  /** Side of the maps: S / 16. */
  side: number;
  /** The weight inputs, PyTorch state_dict names, in parameterLayout order. */
  weightInputs: string[];
}

const BATCH = 'batch';

/** Writes the Grad-CAM graph. Throws OnnxTrainError on a bad option, SpecError on a bad spec. */
export function buildGradCamGraph(spec: ModelSpec, options: GradCamGraphOptions = {}): GradCamGraph {
  validateSpec(spec);
  const inputLayout = options.inputLayout ?? 'nchw';
  if (inputLayout !== 'nchw' && inputLayout !== 'nhwc')
    throw new OnnxTrainError(
      'invalid',
      `inputLayout must be one of: nchw, nhwc; got "${String(inputLayout)}".`,
    );
  const poolBackward = options.poolBackward ?? 'indices';
  if (!POOL_BACKWARDS.includes(poolBackward))
    throw new OnnxTrainError(
      'invalid',
      `poolBackward must be one of: ${POOL_BACKWARDS.join(', ')}; got "${String(poolBackward)}".`,
    );
  const w = new GraphWriter();
  const tape = new Tape(w);
  const s = spec.inputSize;
  const k = spec.numClasses;

  let x =
    inputLayout === 'nchw'
      ? w.input(GRAD_CAM_IO.x, [BATCH, 3, s, s], 'normalised images, float32 NCHW')
      : w.input(GRAD_CAM_IO.x, [BATCH, s, s, 3], 'normalised images, float32 NHWC');
  if (inputLayout === 'nhwc') x = w.op('Transpose', [x], 'x_nchw', { perm: attr.ints([0, 3, 1, 2]) });
  const classes = w.input(
    GRAD_CAM_IO.classes,
    [BATCH],
    'class to explain per image (float32, a whole number; -1: the predicted class)',
  );
  const ctx: LayerContext = {
    w,
    tape,
    batch: '', // unused: only batch statistics need the batch size, and every BatchNorm here is frozen
    filterGradient: 'shifts', // unused: no weight is differentiated
    poolBackward,
    counts: new Map(),
  };

  // Every weight and running statistic is a graph input, none tracked (no weight gradient is written).
  // Inputs rather than constants: at S=224, width 1 the model is 27.7 M floats, which as constants would
  // make a 110 MB protobuf to encode and parse each time a graph is opened, and one graph per weight set;
  // as inputs one graph serves any weights of the spec, and the caller keeps the tensors between batches.
  const weightInputs: string[] = [];
  const tensors = new Map<string, string>();
  for (const p of parameterLayout(spec)) {
    tensors.set(p.name, w.input(p.name, p.shape, `${p.role} (PyTorch layout)`));
    weightInputs.push(p.name);
  }
  const param = (name: string): string | undefined => tensors.get(name);

  // The forward pass in inference mode (forward.ts, as AttentionVgg's call with { training: false }),
  // tracked from A = conv 13's ReLU output: pool5 is formed from it by a max-pool that passes the gradient
  // to A itself (as TensorFlow.js's tf.grad with respect to l3 does).
  const backbone = writeBackbone(ctx, spec, x, param, { mode: 'evaluate', gradientFrom: 13 });
  const l3 = backbone.locals[2];
  if (l3 === undefined || backbone.pool5 === undefined)
    throw new Error('The backbone has no conv 13 followed by a pool (convLayers changed?)');
  const mapSide = s / 16;
  const { logits } = writeHead(ctx, spec, backbone.locals, backbone.pool5, param);

  // The explained class: the given one, or the first arg-max of the logits (ArgMax's and tf.argMax's
  // rule) where the input is negative. Float ops only, as the loss (WebGPU has no int64 Equal or Cast).
  const classIds = w.floats(
    'class_ids',
    [k],
    Float32Array.from({ length: k }, (_, i) => i),
  );
  const column = w.op('Unsqueeze', [classes, w.ints([1])], 'explain_classes_column');
  const given = w.op('Cast', [w.op('Equal', [column, classIds], 'given_hit')], 'given_one_hot', {
    to: attr.int(DataType.FLOAT),
  });
  const max = w.op('ReduceMax', [logits], 'logits_max', { axes: attr.ints([1]), keepdims: attr.int(1) });
  const predicted = firstMaxMask(ctx, logits, max, 1, 'predicted');
  const oneHot = w.op(
    'Where',
    [w.op('Less', [column, w.scalar(0)], 'explain_predicted'), predicted, given],
    'explained_one_hot',
  );
  const chosen = w.op(
    'ReduceSum',
    [w.op('Mul', [oneHot, classIds], 'explained_ids'), w.ints([1])],
    'chosen_value',
    { keepdims: attr.int(0) },
  );
  const probabilities = w.op('Softmax', [logits], 'probabilities_value', { axis: attr.int(1) });

  // dy/dlogits of y = sum(logits * one-hot) is the one-hot itself: the seed of the backward pass.
  if (!tape.needsGrad(logits)) throw new Error('The logits do not depend on conv 13 (attendAndClassify?)');
  tape.addGrad(logits, oneHot);
  tape.backward();
  const dA = tape.grad(l3);
  if (dA === undefined) throw new Error('No gradient reaches conv 13');

  const alpha = w.op('ReduceMean', [dA], 'cam_alpha', { axes: attr.ints([2, 3]), keepdims: attr.int(1) });
  const cam = w.op(
    'Relu',
    [
      w.op('ReduceSum', [w.op('Mul', [l3, alpha], 'cam_weighted'), w.ints([1])], 'cam_sum', {
        keepdims: attr.int(0),
      }),
    ],
    'cam_relu',
  ); // [N, h, w]
  const peak = w.op('ReduceMax', [cam], 'cam_peak', { axes: attr.ints([1, 2]), keepdims: attr.int(1) });
  const normalised = w.op(
    'Where',
    [
      w.op('Greater', [peak, w.scalar(0)], 'cam_has_peak'),
      w.op('Div', [cam, w.op('Max', [peak, w.scalar(1e-30)], 'cam_peak_floor')], 'cam_scaled'),
      w.scalar(0),
    ],
    'cam_value',
  );

  w.output(GRAD_CAM_IO.cam, normalised, [BATCH, mapSide, mapSide], 'Grad-CAM at conv 13, each map / its max');
  w.output(GRAD_CAM_IO.chosen, chosen, [BATCH], 'the explained class of each image (float32)');
  w.output(GRAD_CAM_IO.probabilities, probabilities, [BATCH, k], 'softmax of the logits');
  const doc =
    'Grad-CAM at conv 13 of attention-VGG16_bn written by attnvgg: inference-mode forward, the gradient ' +
    'of the explained logits with respect to conv 13 (ReLU output), channel weights and the normalised map.';
  const model = generatedModel(w, spec, { name: 'attnvgg_grad_cam', kind: 'grad-cam-conv13', doc });
  return { model, spec, inputLayout, side: mapSide, weightInputs };
}
