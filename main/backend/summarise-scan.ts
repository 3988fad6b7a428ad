// Turns a full dataset scan (every file, which can be 50,000 items) into the summary the UI shows:
// classes with counts and a few example paths, and the problem lists cut to a readable length with
// their totals. Must not import electron or renderer.
import type { DatasetScanSummary } from '../api/index.js';
import type { DatasetScan } from '../services/datasets/index.js';

const EXAMPLES_PER_CLASS = 8;
const MAX_PROBLEMS = 200;
const MAX_DUPLICATE_GROUPS = 100;

export function summariseScan(scan: DatasetScan, now = new Date()): DatasetScanSummary {
  const examples = new Map<string, string[]>();
  for (const item of scan.items) {
    const list = examples.get(item.label) ?? [];
    if (list.length < EXAMPLES_PER_CLASS) list.push(item.relativePath);
    examples.set(item.label, list);
  }
  return {
    root: scan.root,
    layout: scan.layout,
    classes: scan.classes.map((c) => ({
      name: c.name,
      count: c.count,
      files: c.files,
      splits: { ...c.splits },
      examples: examples.get(c.name) ?? [],
    })),
    problems: scan.problems
      .slice(0, MAX_PROBLEMS)
      .map((p) => ({ path: p.path, reason: p.reason, message: p.message })),
    problemsTotal: scan.problems.length,
    duplicates: scan.duplicates.slice(0, MAX_DUPLICATE_GROUPS).map((d) => ({
      paths: d.paths,
      labels: d.labels,
      kind: d.kind,
      splits: d.splits,
    })),
    duplicatesTotal: scan.duplicates.length,
    warnings: scan.warnings.map(copyMessage),
    errors: scan.errors.map(copyMessage),
    fingerprint: scan.fingerprint,
    boxes: {
      pictures: scan.boxes.pictures,
      sources: scan.boxes.sources.map((s) => ({ ...s })),
      problems: scan.boxes.problems.slice(0, MAX_PROBLEMS).map((p) => ({ ...p })),
      problemsTotal: scan.boxes.problems.length,
    },
    stats: { ...scan.stats },
    scannedAt: now.toISOString(),
  };
}

function copyMessage(m: DatasetScan['warnings'][number]): DatasetScanSummary['warnings'][number] {
  return {
    code: m.code,
    message: m.message,
    ...(m.classes ? { classes: m.classes } : {}),
    ...(m.paths ? { paths: m.paths } : {}),
  };
}
