// Small measurement helpers shared by the speed benchmarks (training, inference, classification): the
// median of timings and the process's peak resident memory. Node only; imports nothing of the app.

import { readFileSync, writeFileSync } from 'node:fs';

/** The median; NaN for no values. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Linux: writing 5 to clear_refs resets VmHWM (the peak RSS) to the current RSS. False elsewhere. */
export function resetPeakRss(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

/** Peak resident memory in MiB: VmHWM on Linux (reset by resetPeakRss), else the process's maximum. */
export function peakRssMb(): number {
  try {
    const match = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (match) return Number(match[1]) / 1024;
  } catch {
    // not Linux: fall through
  }
  return process.resourceUsage().maxRSS / 1024; // kB everywhere Node runs
}
