// The public surface of the comparison of attention-VGG against the plain VGG16_bn head: the service the
// CLI and the UI call, its events and report, and the statistics and Grad-CAM it is built from. Must not
// import electron or anything from main/electron, main/backend, main/server, main/cli or renderer.
export {
  COMPARE_FILES,
  CompareError,
  compareAttention,
  type CompareEvent,
  type CompareOptions,
  type ComparePhase,
  type CompareResult,
  type CompareRunOptions,
  type CompareStatus,
} from './compare-attention.js';
export { escapeHtml, renderCompareHtml } from './compare-html.js';
export {
  COMPARE_FORMAT,
  COMPARE_MODELS,
  CompareReportError,
  compareReportSchema,
  parseCompareReport,
  type CompareBudget,
  type CompareModel,
  type CompareReport,
  type ModelSummary,
} from './compare-report.js';
export type { GradCamResult } from '../../../models/core/grad-cam-result.js';
export { openPlainGradCam, type PlainGradCam } from './plain-grad-cam.js';
export { EXACT_BELOW, mcnemarTest, type McNemarMethod, type McNemarResult } from './mcnemar.js';
export {
  classDifferences,
  formatPValue,
  pairPredictions,
  pairedTest,
  verdictOf,
  type ClassDifference,
  type PairedTable,
  type Verdict,
  type VerdictOutcome,
} from './paired-results.js';
