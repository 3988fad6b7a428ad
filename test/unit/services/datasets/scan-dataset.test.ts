import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { DatasetScan, ScanProgress } from '../../../../main/services/datasets/dataset-types.js';
import { scanDataset } from '../../../../main/services/datasets/scan-dataset.js';
import { makeBadImages, type BadImageCorpus } from '../../../fixtures/make-bad-images.js';
import { writeDatasetFolder } from '../../../fixtures/make-dataset-folder.js';

let base: string;
before(async () => {
  base = await mkdtemp(join(tmpdir(), 'attnvgg-scan-'));
});
after(async () => {
  await rm(base, { recursive: true, force: true });
});

const codes = (messages: { code: string }[]) => messages.map((m) => m.code);

describe('scanDataset: a messy folder', () => {
  let root: string;
  let corpus: BadImageCorpus;
  let scan: DatasetScan;
  const progress: ScanProgress[] = [];

  before(async () => {
    root = join(base, 'messy');
    await writeDatasetFolder(root, { cat: 6, dog: 6, bird: 1 });
    await mkdir(join(root, 'empty'));
    corpus = await makeBadImages(join(root, 'cat', 'bad'));
    await copyFile(join(root, 'cat', '000.png'), join(root, 'cat', 'copy-of-000.png')); // within class
    await copyFile(join(root, 'cat', '001.png'), join(root, 'dog', 'cat-001-mislabelled.png')); // across classes
    await symlink('..', join(root, 'dog', 'up')); // a loop: dog/up -> dog's parent (the root)
    await symlink('../dog', join(root, 'cat', 'dogs-too')); // another class's folder: not pulled into cat
    await copyFile(join(root, 'cat', '002.png'), join(root, 'stray.png'));
    await writeFile(join(root, 'README.txt'), 'not part of the data');
    scan = await scanDataset(root, {
      seed: 7,
      fullDecode: true,
      onProgress: (p) => progress.push(p),
      progressIntervalMs: 0,
    });
  });

  it('completes and lists the usable images with their class, size and hash', () => {
    assert.deepEqual(
      scan.classes.map((c) => c.name),
      ['bird', 'cat', 'dog'],
    );
    const okCorpus = corpus.files.filter((f) => f.scan === 'ok').length;
    const cat = scan.classes[1];
    assert.equal(cat.count, 6 + 1 + okCorpus);
    assert.equal(scan.classes[2].count, 7);
    assert.equal(scan.items.length, 1 + cat.count + 7);
    for (const item of scan.items) {
      assert.equal(scan.classes[item.classIndex].name, item.label);
      assert.match(item.sha256, /^[0-9a-f]{64}$/);
      assert.ok(item.width > 0 && item.height > 0 && item.bytes > 0);
      assert.ok(item.relativePath.startsWith(`${item.label}/`));
    }
    const rotated = scan.items.find((i) => i.relativePath === 'cat/bad/exif-rotated.jpg');
    assert.deepEqual([rotated?.width, rotated?.height], [16, 32]); // dimensions after EXIF orientation
  });

  it('lists each bad file with its reason and skips it', (t) => {
    if (!corpus.unreadableIsEffective)
      t.diagnostic('running as root: the chmod 000 file is readable, so it counts as ok');
    for (const file of corpus.files) {
      const relative = `cat/bad/${file.name}`;
      const problem = scan.problems.find((p) => p.path === relative);
      if (file.scan === 'ok') {
        assert.equal(problem, undefined, `${file.name} should be usable`);
        assert.ok(
          scan.items.some((i) => i.relativePath === relative),
          `${file.name} missing from items`,
        );
      } else {
        assert.ok(problem, `${file.name} (${file.note}) not listed as a problem`);
        assert.equal(problem.reason, file.scan, `${file.name}: ${problem.message}`);
        assert.ok(!scan.items.some((i) => i.relativePath === relative));
      }
    }
    assert.deepEqual(
      scan.problems.find((p) => p.path === 'dog/up'),
      {
        path: 'dog/up',
        reason: 'symlink-loop',
        message: scan.problems.find((p) => p.path === 'dog/up')?.message,
      },
    );
    assert.equal(scan.problems.find((p) => p.path === 'stray.png')?.reason, 'outside-class-folder');
    assert.equal(scan.problems.find((p) => p.path === 'cat/dogs-too')?.reason, 'folder-seen-twice');
    assert.ok(!scan.problems.some((p) => p.path === 'README.txt'));
    assert.ok(codes(scan.warnings).includes('files-skipped'));
  });

  it('reports duplicates within a class and across classes (a labelling conflict)', () => {
    const across = scan.duplicates.filter((d) => d.kind === 'across-classes');
    assert.equal(across.length, 1);
    assert.deepEqual(across[0].paths, ['cat/001.png', 'dog/cat-001-mislabelled.png']);
    assert.deepEqual(across[0].labels, ['cat', 'dog']);
    const within = scan.duplicates.filter((d) => d.kind === 'within-class');
    assert.ok(within.some((d) => d.paths.join() === 'cat/000.png,cat/copy-of-000.png'));
    // The corpus repeats one PNG under several names (plain.png, UPPER.PNG, png-named.jpg, locked.png).
    assert.ok(
      within.some((d) => d.paths.includes('cat/bad/plain.png') && d.paths.includes('cat/bad/UPPER.PNG')),
    );
    for (const d of within) assert.equal(d.splits.length, 1, 'copies of one picture must share a split');
    assert.ok(codes(scan.warnings).includes('duplicates-across-classes'));
    assert.ok(codes(scan.warnings).includes('duplicates-within-class'));
  });

  it('warns about the 1-image class and the empty folder; no errors', () => {
    const small = scan.warnings.find((w) => w.code === 'class-too-small');
    assert.deepEqual(small?.classes, ['bird']);
    const empty = scan.warnings.find((w) => w.code === 'empty-folder');
    assert.deepEqual(empty?.paths, ['empty']);
    assert.deepEqual(scan.errors, []);
  });

  it('is JSON-serialisable, reports progress and has a stable fingerprint', async () => {
    assert.deepEqual(JSON.parse(JSON.stringify(scan)), scan);
    const last = progress.at(-1);
    assert.ok(last && last.walkDone);
    assert.equal(last.seen, scan.stats.filesSeen);
    assert.ok(last.probed > 0 && last.probed <= last.seen);
    const again = await scanDataset(root, { seed: 7, fullDecode: true, concurrency: 1 });
    assert.equal(again.fingerprint, scan.fingerprint);
    assert.deepEqual(
      again.items.map((i) => [i.relativePath, i.split]),
      scan.items.map((i) => [i.relativePath, i.split]),
    );
    await copyFile(join(root, 'cat', '003.png'), join(root, 'bird', 'new.png'));
    const changed = await scanDataset(root, { seed: 7 });
    assert.notEqual(changed.fingerprint, scan.fingerprint);
  });
});

describe('scanDataset: messages', () => {
  it('a single class cannot train', async () => {
    const root = join(base, 'single');
    await writeDatasetFolder(root, { only: 3 });
    const scan = await scanDataset(root);
    assert.deepEqual(codes(scan.errors), ['single-class']);
    assert.match(scan.errors[0].message, /at least 2 classes/);
  });

  it('images loose in the root are explained', async () => {
    const root = join(base, 'flat');
    await writeDatasetFolder(root, { '.': 3 });
    const scan = await scanDataset(root);
    assert.deepEqual(codes(scan.errors), ['no-images']);
    assert.match(scan.errors[0].message, /sub-folder named after the class/);
  });

  it('heavy imbalance is a warning', async () => {
    const root = join(base, 'imbalanced');
    await writeDatasetFolder(root, { many: 22, few: 2 });
    const scan = await scanDataset(root);
    const warning = scan.warnings.find((w) => w.code === 'imbalance');
    assert.ok(warning, JSON.stringify(scan.warnings));
    assert.deepEqual(warning.classes, ['many', 'few']);
    assert.deepEqual(scan.errors, []);
  });

  it('a missing root or a file as root is an error value, not an exception', async () => {
    assert.deepEqual(codes((await scanDataset(join(base, 'nope'))).errors), ['root-missing']);
    await writeFile(join(base, 'file.txt'), 'x');
    assert.deepEqual(codes((await scanDataset(join(base, 'file.txt'))).errors), ['root-not-a-folder']);
  });

  it('can be cancelled', async () => {
    const root = join(base, 'cancel');
    await writeDatasetFolder(root, { a: 5, b: 5 });
    const controller = new AbortController();
    controller.abort(new Error('stopped by the user'));
    await assert.rejects(scanDataset(root, { signal: controller.signal }), /stopped by the user/);
  });
});

describe('scanDataset: splits', () => {
  it('seeded split is stratified and deterministic per seed', async () => {
    const root = join(base, 'seeded');
    await writeDatasetFolder(root, { a: 20, b: 10 });
    const one = await scanDataset(root, { seed: 1 });
    const same = await scanDataset(root, { seed: 1, concurrency: 1 });
    const other = await scanDataset(root, { seed: 2 });
    assert.equal(one.layout, 'seeded');
    assert.deepEqual(
      one.classes.map((c) => c.splits),
      [
        { train: 16, val: 4, test: 0 },
        { train: 8, val: 2, test: 0 },
      ],
    );
    const splitsOf = (s: DatasetScan) => s.items.map((i) => i.split).join();
    assert.equal(splitsOf(one), splitsOf(same));
    assert.notEqual(splitsOf(one), splitsOf(other));
    const withTest = await scanDataset(root, { seed: 1, valFraction: 0.1, testFraction: 0.2 });
    assert.deepEqual(withTest.classes[0].splits, { train: 14, val: 2, test: 4 });
  });

  it('train/ val/ test/ folders are respected; other folders beside them are ignored', async () => {
    const root = join(base, 'folders');
    await writeDatasetFolder(root, {
      'train/a': 5,
      'train/b': 4,
      'Val/a': 1,
      'Val/b': 1,
      'test/a': 1,
      'test/b': 1,
      extra: 2,
    });
    await copyFile(join(root, 'train/a/000.png'), join(root, 'Val/a/copy.png'));
    const scan = await scanDataset(root, { seed: 3 });
    assert.equal(scan.layout, 'folders');
    for (const item of scan.items) {
      const folder = item.relativePath.split('/')[0];
      assert.equal(item.split, folder === 'Val' ? 'val' : folder, item.relativePath);
    }
    assert.deepEqual(
      scan.classes.map((c) => [c.name, c.splits]),
      [
        ['a', { train: 5, val: 2, test: 1 }],
        ['b', { train: 4, val: 1, test: 1 }],
      ],
    );
    assert.ok(codes(scan.warnings).includes('ignored-folder'));
    const leak = scan.warnings.find((w) => w.code === 'duplicates-across-splits');
    assert.deepEqual(leak?.paths, ['Val/a/copy.png', 'train/a/000.png']);
  });

  it('train/ + test/ without val/: validation is carved from train/ only', async () => {
    const root = join(base, 'train-test');
    await writeDatasetFolder(root, { 'train/a': 10, 'train/b': 10, 'test/a': 3, 'test/b': 3 });
    const scan = await scanDataset(root, { seed: 3, valFraction: 0.3 });
    assert.deepEqual(
      scan.classes.map((c) => c.splits),
      [
        { train: 7, val: 3, test: 3 },
        { train: 7, val: 3, test: 3 },
      ],
    );
    for (const item of scan.items)
      if (item.relativePath.startsWith('test/')) assert.equal(item.split, 'test');
  });

  it('a lone train/ folder is a split folder, not a class', async () => {
    const root = join(base, 'train-only');
    await writeDatasetFolder(root, { 'train/a': 5, 'train/b': 5 });
    const scan = await scanDataset(root, { seed: 1 });
    assert.equal(scan.layout, 'folders');
    assert.deepEqual(
      scan.classes.map((c) => [c.name, c.splits]),
      [
        ['a', { train: 4, val: 1, test: 0 }],
        ['b', { train: 4, val: 1, test: 0 }],
      ],
    );
  });

  it('a class only in val/ is an error; a class missing from val/ is a warning', async () => {
    const root = join(base, 'missing-split');
    await writeDatasetFolder(root, { 'train/a': 3, 'train/b': 3, 'val/a': 1, 'val/c': 2 });
    const scan = await scanDataset(root);
    const error = scan.errors.find((e) => e.code === 'class-missing-from-split');
    assert.deepEqual(error?.classes, ['c']);
    const warning = scan.warnings.find((w) => w.code === 'class-missing-from-split');
    assert.deepEqual(warning?.classes, ['b']);
  });
});

describe('scanDataset: symbolic links', () => {
  it('follows a link only when its target stays inside the dataset; the rest are skipped with the reason', async () => {
    const outside = join(base, 'links-outside');
    const written = await writeDatasetFolder(outside, { loose: 2 });
    const root = join(base, 'links');
    await writeDatasetFolder(root, { cat: 2, dog: 2, 'extra/more': 1 });
    // Inside: a file link and a folder link whose targets are in the dataset (another folder of it).
    await symlink('../extra/more/000.png', join(root, 'cat', 'in-file.png'));
    await symlink('../extra/more', join(root, 'dog', 'in-folder'));
    // Outside: a file, a folder, and a link that only leaves through a second link.
    await symlink(written.loose[0], join(root, 'cat', 'out-file.png'));
    await symlink(outside, join(root, 'dog', 'out-folder'));
    await symlink('out-file.png', join(root, 'cat', 'via-out.png'));
    // The dataset itself reached through a link: its own links still count as inside.
    const viaLink = join(base, 'links-alias');
    await symlink(root, viaLink);

    for (const path of [root, viaLink]) {
      const scan = await scanDataset(path);
      const items = scan.items.map((i) => i.relativePath).sort();
      assert.ok(items.includes('cat/in-file.png'), items.join(', '));
      assert.ok(items.includes('dog/in-folder/000.png'), items.join(', '));
      assert.ok(!items.some((p) => p.includes('out') || p.includes('loose')), items.join(', '));
      const outsideLinks = scan.problems.filter((p) => p.reason === 'link-outside-folder');
      assert.deepEqual(outsideLinks.map((p) => p.path).sort(), [
        'cat/out-file.png',
        'cat/via-out.png',
        'dog/out-folder',
      ]);
      for (const p of outsideLinks) assert.match(p.message, /leads out of the dataset folder/);
      assert.ok(codes(scan.warnings).includes('files-skipped'));
    }
  });
});

describe('scanDataset: a folder with object boxes', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'attnvgg-scan-boxes-'));
    await writeDatasetFolder(root, { cat: 3, dog: 3 });
    // VOC beside a picture, YOLO in labels/ with names in classes.txt, and a broken VOC file.
    await writeFile(
      join(root, 'cat', '000.xml'),
      '<annotation><object><name>cat</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>4</xmax><ymax>4</ymax></bndbox></object></annotation>',
    );
    await writeFile(join(root, 'cat', '001.xml'), '<annotation><object>');
    await mkdir(join(root, 'labels', 'dog'), { recursive: true });
    await writeFile(join(root, 'labels', 'dog', '000.txt'), '1 0.5 0.5 0.5 0.5\n');
    await writeFile(join(root, 'labels', 'dog', '001.txt'), '1 0.5 0.5 0.5 0.5\n');
    await writeFile(join(root, 'classes.txt'), 'cat\ndog\n');
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('counts the pictures with boxes; box files and labels/ are neither classes nor problems', async () => {
    const scan = await scanDataset(root, {});
    assert.deepEqual(
      scan.classes.map((c) => c.name),
      ['cat', 'dog'],
    );
    assert.equal(scan.items.length, 6);
    assert.deepEqual(scan.problems, []);
    assert.deepEqual(scan.warnings, []);
    assert.equal(scan.boxes.pictures, 3);
    assert.deepEqual(
      scan.boxes.sources.map((s) => [s.format, s.pictures]),
      [
        ['voc', 1],
        ['yolo', 2],
      ],
    );
    assert.equal(scan.boxes.problems.length, 1);
    assert.match(scan.boxes.problems[0].message, /001\.xml: .*not closed/);
  });

  it('takes a folder named labels/ for a class when pictures lie in it', async () => {
    const other = await mkdtemp(join(tmpdir(), 'attnvgg-scan-labels-'));
    try {
      await writeDatasetFolder(other, { labels: 2, tags: 2 });
      const scan = await scanDataset(other, {});
      assert.deepEqual(
        scan.classes.map((c) => c.name),
        ['labels', 'tags'],
      );
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });
});
