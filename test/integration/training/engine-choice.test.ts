// The choice of training engine (main/services/training/training-engine.ts): native TensorFlow first,
// then onnxruntime, TensorFlow.js wasm/cpu only when forced, asked for or when onnxruntime cannot serve
// the settings; ATTNVGG_ENGINE and the caller's engine force one, with the reason recorded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectBackend } from '../../../models/tfjs/backend.js';
import type { OptimizerName } from '../../../models/train/optimizer.js';
import {
  chooseTrainingEngine,
  describeEngineChoice,
  onnxEngineRefusal,
  parseEngineName,
  TrainingEngineError,
} from '../../../main/services/training/training-engine.js';

const nativeLoads = (await selectBackend({ env: {} })).chosen === 'tensorflow';

test('automatic: onnxruntime when native TensorFlow does not load, with the reasons', async (t) => {
  if (nativeLoads) {
    t.skip('native TensorFlow loads here: it is the automatic choice');
    return;
  }
  const choice = await chooseTrainingEngine({ optimizer: 'adam', env: {} });
  assert.equal(choice.engine, 'onnxruntime');
  assert.equal(choice.forced, false);
  assert.match(choice.reasons.join('\n'), /native TensorFlow did not load \(tensorflow \(tfjs-node-gpu\): /);
  assert.match(describeEngineChoice(choice), /^Training engine: onnxruntime\n {2}- native TensorFlow/);
});

test('automatic: native TensorFlow stays the first choice when it loads', async (t) => {
  if (!nativeLoads) {
    t.skip('native TensorFlow does not load here');
    return;
  }
  const choice = await chooseTrainingEngine({ optimizer: 'sgd', env: {} });
  assert.equal(choice.engine, 'tfjs');
  assert.equal(choice.backend?.chosen, 'tensorflow');
});

test('a TensorFlow.js backend asked for by name trains on TensorFlow.js', async () => {
  const byOption = await chooseTrainingEngine({ optimizer: 'sgd', backend: 'cpu', env: {} });
  assert.equal(byOption.engine, 'tfjs');
  assert.equal(byOption.backend?.chosen, nativeLoads ? 'tensorflow' : 'cpu');
  if (!nativeLoads) assert.match(byOption.reasons[0], /backend cpu was asked for \(--backend cpu\)/);
  const byEnv = await chooseTrainingEngine({ optimizer: 'sgd', env: { ATTNVGG_BACKEND: 'cpu' } });
  assert.equal(byEnv.engine, 'tfjs');
  assert.equal(byEnv.backend?.chosen, 'cpu');
});

test('ATTNVGG_ENGINE and the caller force an engine; the caller wins', async () => {
  const onnx = await chooseTrainingEngine({ optimizer: 'sgd', env: { ATTNVGG_ENGINE: 'onnxruntime' } });
  assert.deepEqual(
    [onnx.engine, onnx.forced, onnx.reasons],
    ['onnxruntime', true, ['forced by ATTNVGG_ENGINE=onnxruntime']],
  );
  const tfjs = await chooseTrainingEngine({ optimizer: 'sgd', env: { ATTNVGG_ENGINE: ' TFJS ' } });
  assert.equal(tfjs.engine, 'tfjs');
  assert.ok(tfjs.backend !== undefined);
  const caller = await chooseTrainingEngine({
    optimizer: 'sgd',
    engine: 'tfjs',
    env: { ATTNVGG_ENGINE: 'onnxruntime' },
  });
  assert.deepEqual([caller.engine, caller.reasons], ['tfjs', ['forced by --engine tfjs']]);
  await assert.rejects(chooseTrainingEngine({ optimizer: 'sgd', env: { ATTNVGG_ENGINE: 'torch' } }), {
    name: 'TrainingEngineError',
    message: 'Unsupported engine "torch". Should be one of: tfjs, onnxruntime',
  });
  assert.throws(() => parseEngineName('gpu'), TrainingEngineError);
});

test('settings onnxruntime cannot train fall back to TensorFlow.js, or are refused when it is forced', async () => {
  // An optimizer name from outside TypeScript (an old run.json), which only TensorFlow.js would know.
  const lamb = 'lamb' as unknown as OptimizerName;
  assert.equal(onnxEngineRefusal({ optimizer: 'adamw' }), null);
  assert.match(onnxEngineRefusal({ optimizer: lamb }) ?? '', /no update for the optimizer "lamb"/);
  await assert.rejects(chooseTrainingEngine({ optimizer: lamb, engine: 'onnxruntime', env: {} }), {
    name: 'TrainingEngineError',
    message: /--engine onnxruntime, but the onnxruntime engine has no update for the optimizer "lamb"/,
  });
  const auto = await chooseTrainingEngine({ optimizer: lamb, env: {} });
  assert.equal(auto.engine, 'tfjs');
  if (!nativeLoads) assert.match(auto.reasons.join('\n'), /"lamb".*: TensorFlow.js (wasm|cpu) trains/);
});

test('a GPU device trains on onnxruntime whatever TensorFlow.js loads; with --engine tfjs it is refused', async () => {
  const choice = await chooseTrainingEngine({ optimizer: 'sgd', device: 'webgpu', env: {} });
  assert.equal(choice.engine, 'onnxruntime');
  assert.match(choice.reasons.join('\n'), /a GPU device \(webgpu\) was chosen: onnxruntime trains on it/);
  await assert.rejects(
    chooseTrainingEngine({ optimizer: 'sgd', device: 'webgpu', engine: 'tfjs', env: {} }),
    (e: unknown) =>
      e instanceof TrainingEngineError &&
      /the device webgpu runs only the onnxruntime engine/.test(e.message),
  );
  const cpu = await chooseTrainingEngine({
    optimizer: 'sgd',
    device: 'cpu',
    env: { ATTNVGG_ENGINE: 'tfjs' },
  });
  assert.equal(cpu.engine, 'tfjs', 'the CPU device leaves the engine choice as it was');
});
