// Finds files with identical content (same SHA-256) among a dataset's images: within one class (wasteful),
// across classes (the same picture with two labels: a labelling conflict) and across splits (validation
// would score pictures the model trained on). Pure: must not import electron or anything from
// main/electron, main/backend, main/server, main/cli or renderer.
import type { DatasetItem, DuplicateGroup, Split } from './dataset-types.js';
import { compare } from './split-items.js';

export function findDuplicates(
  items: readonly Pick<DatasetItem, 'sha256' | 'relativePath' | 'label' | 'split'>[],
): DuplicateGroup[] {
  const bySha = new Map<string, number[]>();
  items.forEach((item, i) => {
    const group = bySha.get(item.sha256);
    if (group) group.push(i);
    else bySha.set(item.sha256, [i]);
  });
  const groups: DuplicateGroup[] = [];
  for (const [sha256, indices] of bySha) {
    if (indices.length < 2) continue;
    const labels = [...new Set(indices.map((i) => items[i].label))].sort(compare);
    const splits = [...new Set(indices.map((i) => items[i].split))].sort(compare) as Split[];
    groups.push({
      sha256,
      paths: indices.map((i) => items[i].relativePath).sort(compare),
      labels,
      kind: labels.length > 1 ? 'across-classes' : 'within-class',
      splits,
    });
  }
  return groups.sort((a, b) => compare(a.paths[0], b.paths[0]));
}
