// Runs classifyFolder on each model path given, in this separate process so that a crash inside the
// native runtime shows as a failed child instead of killing the test runner. Prints one JSON line per
// model: {model, outcome: 'completed' | 'refused', error, message}. Test code only.
//   node --import tsx test/reliability/classify-child.ts <images> <outDir> <model.onnx>...
import { join } from 'node:path';
import { classifyFolder } from '../../main/services/classify/index.js';
import { resultsOf } from '../helpers/classify-results.js';

const [images, outDir, ...models] = process.argv.slice(2);
for (const [i, model] of models.entries()) {
  try {
    const outcome = await classifyFolder(model, [images], join(outDir, String(i)), {
      threads: 1,
      worker: false,
      batch: 2,
    });
    const failed = (await resultsOf(outcome)).results.filter((r) => r.status === 'failed');
    console.log(JSON.stringify({ model, outcome: outcome.status, failed: failed.length }));
  } catch (e) {
    const error = e as Error;
    console.log(JSON.stringify({ model, outcome: 'refused', error: error.name, message: error.message }));
  }
}
