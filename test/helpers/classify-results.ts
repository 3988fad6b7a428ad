// The whole result set of a classification folder (results.jsonl + summary.json) for tests that look at
// every row of a small run.
import { loadResults, type ClassifyResults } from '../../main/services/classify/index.js';

export async function resultsOf(outcome: { outDir: string }): Promise<ClassifyResults> {
  const results = await loadResults(outcome.outDir);
  if (!results) throw new Error(`${outcome.outDir} holds no results`);
  return results;
}
