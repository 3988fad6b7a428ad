// The comparison report as data: a versioned zod schema (format "attnvgg-compare/1") that the JSON file
// is checked against before it is written, and the type the UI and the HTML page read. The schema is
// defined once, in the API contract (main/api/compare-schemas.ts: the UI reads the same report); this
// module re-exports it under the service's names and checks reports read back. Paths inside are
// relative to the comparison folder, so the folder can be moved or shared whole. Must not import
// electron or anything from main/electron, main/backend, main/server, main/cli or renderer.

import { COMPARE_FORMAT, CompareReportSchema, type CompareReport } from '../../api/compare-schemas.js';

// The schema lives in the API contract (the UI reads the same report); these names keep the service's
// surface as it was.
export {
  COMPARE_FORMAT,
  COMPARE_MODELS,
  CompareBudgetSchema as budgetSchema,
  CompareModelSummarySchema as modelSummarySchema,
  CompareReportSchema as compareReportSchema,
  type CompareBudget,
  type CompareModel,
  type CompareModelSummary as ModelSummary,
  type CompareReport,
} from '../../api/compare-schemas.js';

export class CompareReportError extends Error {
  override name = 'CompareReportError';
}

/** Checks a report (for example one read back from compare.json); throws CompareReportError saying where. */
export function parseCompareReport(value: unknown): CompareReport {
  const result = CompareReportSchema.safeParse(value);
  if (!result.success)
    throw new CompareReportError(
      `Not a valid ${COMPARE_FORMAT} report: ${result.error.issues
        .slice(0, 5)
        .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
        .join('; ')}`,
    );
  return result.data;
}
