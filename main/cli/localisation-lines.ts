// Prints a localisation report (the pointing game per attention level and for the combined map) as
// aligned text lines for the CLI's `eval` and `demo`. Must not import electron or anything from
// main/electron, main/server or renderer.

import type { LocalisationReport, LocalisationScore } from '../services/boxes/localisation.js';

const pct = (v: number): string => `${(100 * v).toFixed(1)} %`;

function line(name: string, s: LocalisationScore): string {
  return (
    `${name.padEnd(20)}${pct(s.hitRate).padStart(8)}  (95 % CI ${pct(s.hitInterval[0])}-${pct(s.hitInterval[1])})` +
    `  random peak ${pct(s.chanceRate)}  energy ${pct(s.energy)}`
  );
}

export function localisationLines(report: LocalisationReport): string[] {
  return [
    ...report.levels.map((s, k) => line(`level ${k + 1}`, s)),
    line(`combined (${report.combined.combination})`, report.combined),
  ];
}
