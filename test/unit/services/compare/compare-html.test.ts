import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  escapeHtml,
  parseCompareReport,
  renderCompareHtml,
} from '../../../../main/services/compare/index.js';
import { HOSTILE_CLASS, HOSTILE_FILE, hostileReport } from './report-fixture.js';

const PNG = Uint8Array.from([0x89, 0x50, 0x4e, 0x47]);

describe('comparison report page', () => {
  it('escapes the characters that matter in HTML text and attributes', () => {
    assert.equal(
      escapeHtml(`<a href="x">'&'</a>\``),
      '&#60;a href=&#34;x&#34;&#62;&#39;&#38;&#39;&#60;/a&#62;&#96;',
    );
    assert.equal(escapeHtml('plain text, 12 %'), 'plain text, 12 %');
  });

  it('escapes every user-provided string: class names, file names, folders, settings, warnings', () => {
    const report = parseCompareReport(hostileReport());
    const html = renderCompareHtml(
      report,
      new Map([
        ['explanations/0-picture.png', PNG],
        ['explanations/0-attention.png', PNG],
        ['explanations/0-plain-gradcam.png', PNG],
      ]),
    );
    // No markup from the data survives: the page has no script element and no injected attribute.
    assert.doesNotMatch(html, /<script/i);
    assert.doesNotMatch(html, /<img src=x/);
    assert.doesNotMatch(html, /<b>folder/);
    assert.doesNotMatch(html, /<\/style><script/);
    assert.ok(html.includes(escapeHtml(HOSTILE_CLASS)));
    assert.ok(html.includes(escapeHtml(HOSTILE_FILE)));
    assert.ok(html.includes('dog &#38; cat'));
    assert.ok(html.includes('a warning with &#60;markup&#62;'));
    // Exactly one style element (ours) and pictures only as data: URIs.
    assert.equal(html.match(/<style>/g)?.length, 1);
    const sources = [...html.matchAll(/src="([^"]*)"/g)].map((m) => m[1]);
    assert.equal(sources.length, 3);
    for (const src of sources) assert.match(src, /^data:image\/png;base64,iVBORw==$/);
    assert.doesNotMatch(html, /https?:\/\//);
    assert.match(
      html,
      /Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'"/,
    );
  });

  it('the schema rejects a report with missing or out-of-range fields', () => {
    const bad = hostileReport() as unknown as { models: { plain: { evaluation: { accuracy: number } } } };
    bad.models.plain.evaluation.accuracy = 1.5;
    assert.throws(() => parseCompareReport(bad), /models\.plain\.evaluation\.accuracy/);
    assert.throws(
      () => parseCompareReport({ format: 'attnvgg-compare/2' }),
      /Not a valid attnvgg-compare\/1 report/,
    );
  });
});
