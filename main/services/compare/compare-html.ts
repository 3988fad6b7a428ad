// The comparison report as one self-contained HTML page a user can open offline or share: inline CSS, the
// pictures as data: URIs, no scripts, and a Content-Security-Policy that forbids loading anything else.
// Every string that comes from the user's data (class names, file names, folder paths) goes through
// escapeHtml. Pure string building; must not import electron or anything from main/electron, main/backend, main/server,
// main/cli or renderer.

import type { CompareReport, ModelSummary } from './compare-report.js';
import { formatPValue } from './paired-results.js';

/** Escapes text for HTML element content and double- or single-quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

const pct = (x: number): string => `${(100 * x).toFixed(1)} %`;
const signed = (x: number): string => `${x > 0 ? '+' : x < 0 ? '−' : '±'}${Math.abs(x).toFixed(1)}`;
const num = (x: number, digits = 1): string => x.toFixed(digits);

/** A picture as a data: URI; JPEG when the bytes start with JPEG's marker, else PNG. */
function dataUri(bytes: Uint8Array | undefined): string {
  if (!bytes) return '';
  const mime = bytes[0] === 0xff && bytes[1] === 0xd8 ? 'image/jpeg' : 'image/png';
  return `data:${mime};base64,${Buffer.from(bytes).toString('base64')}`;
}

const CSS = `
:root { color-scheme: light dark; --fg: #1d2330; --bg: #fbfbfd; --muted: #5b6475; --line: #d7dbe3;
  --good: #1a7f37; --bad: #b3261e; --card: #ffffff; }
@media (prefers-color-scheme: dark) { :root { --fg: #e7e9ee; --bg: #14161b; --muted: #a2a9b7;
  --line: #333845; --good: #5fd07a; --bad: #ff8a80; --card: #1c1f26; } }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg);
  background: var(--bg); }
main { max-width: 1040px; margin: 0 auto; padding: 24px 20px 48px; }
h1 { font-size: 1.5rem; margin: 0 0 4px; }
h2 { font-size: 1.15rem; margin: 32px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
.muted { color: var(--muted); }
.verdict { font-size: 1.25rem; font-weight: 600; padding: 14px 16px; border-radius: 8px; margin: 16px 0;
  background: var(--card); border: 1px solid var(--line); border-left: 6px solid var(--muted); }
.verdict.attention-better { border-left-color: var(--good); }
.verdict.plain-better { border-left-color: var(--bad); }
table { border-collapse: collapse; width: 100%; margin: 8px 0; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
td.n, th.n { text-align: right; }
.pos { color: var(--good); } .neg { color: var(--bad); }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(300px, 1fr)); gap: 16px; }
figure { margin: 0; background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 8px; }
figure .row { display: flex; gap: 4px; }
figure .cell { flex: 1; min-width: 0; text-align: center; font-size: 12px; }
figure img { width: 100%; image-rendering: auto; border-radius: 4px; display: block; }
figcaption { font-size: 12px; margin-top: 6px; overflow-wrap: anywhere; }
.ok { color: var(--good); } .wrong { color: var(--bad); }
code { font-size: 13px; overflow-wrap: anywhere; }
`;

function modelRow(name: string, m: ModelSummary): string {
  const e = m.evaluation;
  const t = m.training;
  return `<tr><th>${escapeHtml(name)}</th>
<td class="n">${pct(e.accuracy)}</td><td class="n">${pct(e.accuracyInterval[0])} – ${pct(e.accuracyInterval[1])}</td>
<td class="n">${num(100 * e.macroF1)}</td><td class="n">${m.parameters.trainable.toLocaleString('en-US')}</td>
<td class="n">${t.epochsCompleted}</td><td class="n">${num(t.trainSeconds)} s</td>
<td class="n">${num(t.imagesPerSecond)}</td><td class="n">${num(m.inference.imagesPerSecond)}</td>
<td>${escapeHtml(t.stoppedBy)}</td></tr>`;
}

function diffCell(points: number): string {
  const cls = points > 0.05 ? 'pos' : points < -0.05 ? 'neg' : '';
  return `<td class="n ${cls}">${signed(points)}</td>`;
}

/** Which McNemar test gave the p-value, in words. */
function methodText(mc: CompareReport['paired']['mcnemar']): string {
  return mc.method === 'exact-binomial'
    ? `Exact binomial test (fewer than 25 discordant images), two-sided`
    : mc.method === 'chi-square-continuity'
      ? `Chi-square with continuity correction, X² = ${num(mc.statistic, 3)}, 1 degree of freedom`
      : 'No discordant images: both models were right and wrong on exactly the same images';
}

/** The training budget each model had, in words. */
function budgetText(budget: CompareReport['settings']['budget']): string {
  return budget.kind === 'time'
    ? `${num(budget.seconds / 60, 1)} minutes of training each (schedule planned for ${budget.epochs} epochs)`
    : `${budget.epochs} epoch${budget.epochs === 1 ? '' : 's'} each`;
}

/** Title, dataset line and the verdict. */
function headline(report: CompareReport): string {
  const { verdict } = report;
  return `<h1>Does attention help on this data?</h1>
<p class="muted">Dataset <code>${escapeHtml(report.dataset)}</code> · ${report.classes.length} classes · ${budgetText(report.settings.budget)} ·
${escapeHtml(report.createdAt)} · attnvgg ${escapeHtml(report.appVersion)}</p>
<div class="verdict ${escapeHtml(verdict.outcome)}">${escapeHtml(verdict.text)}</div>`;
}

/** One row per model: accuracy, size and speed. */
function accuracySection({ models, paired }: CompareReport): string {
  return `<h2>Accuracy, size and speed</h2>
<p>Both models were trained on the same split with the same seed, settings and budget, and evaluated on the same
${paired.n} ${escapeHtml(paired.split)} images. The interval is the 95 % Wilson score interval.</p>
<table><thead><tr><th>model</th><th class="n">accuracy</th><th class="n">95 % interval</th><th class="n">macro F1</th>
<th class="n">trainable parameters</th><th class="n">epochs</th><th class="n">training time</th><th class="n">training img/s</th>
<th class="n">inference img/s (ONNX)</th><th>stopped by</th></tr></thead><tbody>
${modelRow('attention (VGG16_bn + attention)', models.attention)}
${modelRow('plain (VGG16_bn head, attention off)', models.plain)}
</tbody></table>`;
}

/** The paired table and McNemar's test on it. */
function pairedTestSection({ paired, verdict }: CompareReport): string {
  const mc = paired.mcnemar;
  return `<h2>Paired test (McNemar)</h2>
<table><tbody>
<tr><td>both right</td><td class="n">${paired.bothCorrect}</td><td>only attention right</td><td class="n">${paired.attentionOnly}</td></tr>
<tr><td>only plain right</td><td class="n">${paired.plainOnly}</td><td>both wrong</td><td class="n">${paired.bothWrong}</td></tr>
</tbody></table>
<p>Only the images where the two models disagree count: ${mc.b + mc.c} here. ${methodText(mc)}: <b>${formatPValue(mc.pValue)}</b>.
A difference is called when p &lt; ${verdict.alpha}.${paired.unpaired > 0 ? ` ${paired.unpaired} images were evaluated by only one model and left out.` : ''}</p>`;
}

/** Recall and F1 of each class, side by side. */
function perClassSection({ perClass }: CompareReport): string {
  const rows = perClass
    .map(
      (c) => `<tr><td>${escapeHtml(c.label)}</td><td class="n">${c.support}</td>
<td class="n">${pct(c.attentionRecall)}</td><td class="n">${pct(c.plainRecall)}</td>${diffCell(c.recallDifferencePoints)}
<td class="n">${num(100 * c.attentionF1)}</td><td class="n">${num(100 * c.plainF1)}</td>${diffCell(c.f1DifferencePoints)}</tr>`,
    )
    .join('\n');
  return `<h2>Per class</h2>
<table><thead><tr><th>class</th><th class="n">images</th><th class="n">recall, attention</th><th class="n">recall, plain</th>
<th class="n">difference (points)</th><th class="n">F1, attention</th><th class="n">F1, plain</th><th class="n">difference</th></tr></thead>
<tbody>
${rows}
</tbody></table>`;
}

/** The pointing game of both models; empty when the dataset has no boxes. */
function pointingSection(p: CompareReport['pointing']): string {
  if (!p) return '';
  const rows = (
    [
      ['attention, finest level (conv 7)', p.attentionFinest],
      ['attention, three levels combined', p.attentionCombined],
      ['attention at conv 13', p.attentionConv13],
      ['plain model, Grad-CAM at conv 13', p.gradCamConv13],
    ] as const
  )
    .map(
      ([name, s]) =>
        `<tr><td>${name}</td><td>${escapeHtml(s.resolution)}</td><td class="n">${s.hits} / ${s.total}</td><td class="n">${pct(s.hitRate)}</td></tr>`,
    )
    .join('\n');
  return `<h2>Does it look at the object? (pointing game)</h2>
<p>For each of the ${p.images} ${escapeHtml(p.split)} images with an object box, the peak of the map counts as a hit when it
falls inside the box. A peak on a random cell of the finest map would hit ${pct(p.chanceRate)} of the time.</p>
<table><thead><tr><th>map</th><th>where the peak is taken</th><th class="n">hits</th><th class="n">hit rate</th></tr></thead><tbody>
${rows}
</tbody></table>${ownPointingTable(p.attention)}`;
}

/** The attention model's own maps in the pointing game; empty when the report has none. */
function ownPointingTable(own: NonNullable<CompareReport['pointing']>['attention']): string {
  if (!own) return '';
  const rows = [
    ...own.levels.map((s, k) => [`level ${k + 1}`, s] as const),
    [`combined (${own.combined.combination})`, own.combined] as const,
  ]
    .map(
      ([name, s]) =>
        `<tr><td>${escapeHtml(name)}</td><td class="n">${pct(s.hitRate)}</td><td class="n">${pct(s.hitInterval[0])}–${pct(s.hitInterval[1])}</td><td class="n">${pct(s.chanceRate)}</td><td class="n">${pct(s.energy)}</td></tr>`,
    )
    .join('\n');
  return `
<p>The attention model's own maps on the same pictures, each with its 95 % interval, the rate of a random
peak on that map's cells and the share of the map's weight inside the box:</p>
<table><thead><tr><th>map</th><th class="n">hit rate</th><th class="n">95 % interval</th><th class="n">random peak</th><th class="n">weight in box</th></tr></thead><tbody>
${rows}
</tbody></table>`;
}

/** One explained picture: the picture, the attention maps and the plain model's Grad-CAM. */
function explanationFigure(
  img: CompareReport['explanations']['images'][number],
  pictures: ReadonlyMap<string, Uint8Array>,
): string {
  const mark = (predicted: string): string =>
    `<span class="${predicted === img.label ? 'ok' : 'wrong'}">${escapeHtml(predicted)}</span>`;
  const alt = escapeHtml(img.relativePath);
  return `<figure>
<div class="row"><div class="cell"><img src="${dataUri(pictures.get(img.picture))}" alt="${alt}">picture</div>
<div class="cell"><img src="${dataUri(pictures.get(img.attention.overlay))}" alt="attention maps of ${alt}">attention</div>
<div class="cell"><img src="${dataUri(pictures.get(img.plain.overlay))}" alt="Grad-CAM of ${alt}">plain, Grad-CAM</div></div>
<figcaption><code>${escapeHtml(img.relativePath)}</code><br>label <b>${escapeHtml(img.label)}</b>;
attention says ${mark(img.attention.predicted)} (${pct(img.attention.confidence)}),
plain says ${mark(img.plain.predicted)} (${pct(img.plain.confidence)})</figcaption></figure>`;
}

/** The explained pictures, with what each column shows. */
function explanationsSection(report: CompareReport, pictures: ReadonlyMap<string, Uint8Array>): string {
  const figures = report.explanations.images.map((img) => explanationFigure(img, pictures)).join('\n');
  return `<h2>Where each model looks</h2>
<p>Left: the picture as the model sees it. Middle: the attention model's own maps (its three levels combined; they
are part of its prediction). Right: Grad-CAM of the plain model at conv 13 (an after-the-fact explanation from
gradients of the predicted class). Red is where a map is highest.</p>
<div class="grid">
${figures}
</div>`;
}

/** The comparison's warnings; empty when there are none. */
function warningsSection(warnings: readonly string[]): string {
  return warnings.length > 0
    ? `<h2>Warnings</h2><ul>${warnings.map((w) => `<li>${escapeHtml(w)}</li>`).join('')}</ul>`
    : '';
}

/** The training settings both runs shared. */
function settingsSection(training: CompareReport['settings']['training']): string {
  const rows = Object.entries(training)
    .map(
      ([k, v]) =>
        `<tr><td>${escapeHtml(k)}</td><td><code>${escapeHtml(JSON.stringify(v) ?? '')}</code></td></tr>`,
    )
    .join('\n');
  return `<h2>Settings</h2>
<table><tbody>
${rows}
</tbody></table>`;
}

/**
 * The page for `report`; `pictures` maps the report's picture paths (explanations) to PNG or JPEG bytes
 * to embed (a missing one leaves an empty image).
 */
export function renderCompareHtml(report: CompareReport, pictures: ReadonlyMap<string, Uint8Array>): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<title>Does attention help? ${escapeHtml(report.dataset)}</title>
<style>${CSS}</style>
</head>
<body><main>
${headline(report)}

${accuracySection(report)}

${pairedTestSection(report)}

${perClassSection(report)}
${pointingSection(report.pointing)}
${explanationsSection(report, pictures)}
${warningsSection(report.warnings)}
${settingsSection(report.settings.training)}
</main></body>
</html>
`;
}
