/** Prints a verify-release report: one row per asset, the problems one line each, then the verdict. */
import type { ReleaseReport } from './verify.js';

const SHORT = 12;

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.min(64, Math.max(...rows.map((r) => r[i]!.length))));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd());
}

/** Control characters never reach the terminal (names are hostile). */
const safe = (s: string): string => s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, '?');

export function verdictLine(r: ReleaseReport): string {
  const assets = r.assets.filter((a) => a.status !== 'failed').length;
  if (!r.ok) return `verdict: FAILED: ${r.problems.length} problem${r.problems.length === 1 ? '' : 's'} in ${safe(r.source)}`;
  const images = r.images.length ? ` and ${r.images.length} image${r.images.length === 1 ? '' : 's'}` : '';
  const by = r.manifest?.verified
    ? `against the manifest ${safe(r.manifest.name)} signed by ${safe(r.assets.find((a) => a.name === r.manifest!.name)?.signer ?? r.signer)}`
    : `by their signatures${r.checksums.length ? ' and the signed checksums' : ''} (no manifest)`;
  return `verdict: OK: ${assets} asset${assets === 1 ? '' : 's'}${images} verified ${by}`;
}

export function formatReport(r: ReleaseReport): string {
  const lines: string[] = [];
  const m = r.manifest;
  lines.push(
    `verify-release ${safe(r.source)}: ${r.assets.length} asset${r.assets.length === 1 ? '' : 's'}, ` +
      (m ? `manifest ${safe(m.name)}${m.tag ? ` (tag ${safe(m.tag)}, commit ${safe((m.commit ?? '').slice(0, 12))})` : ''}` : 'no manifest') +
      (r.checksums.length ? `, checksums ${r.checksums.map(safe).join(', ')}` : ''),
  );
  const rows = [['ASSET', 'SHA256', 'STATUS', 'VERIFIED BY', 'SIGNER']];
  for (const a of r.assets) {
    rows.push([safe(a.name), a.sha256 ? a.sha256.slice(0, SHORT) : '-', a.status, a.verifiedBy.map(safe).join(', ') || '-', safe(a.signer ?? '-')]);
  }
  for (const im of r.images) rows.push([safe(im.reference), '', im.status, im.status === 'ok' ? 'registry signatures' : '-', safe(im.signer ?? '-')]);
  lines.push(...table(rows));
  for (const n of r.notes) lines.push(`note: ${safe(n)}`);
  for (const p of r.problems) lines.push(`FAILED ${safe(p.subject)}: ${safe(p.reason)}`);
  lines.push(verdictLine(r));
  return `${lines.join('\n')}\n`;
}

/** The machine-readable form: one JSON document. */
export function reportJson(r: ReleaseReport): string {
  return `${JSON.stringify(
    {
      source: r.source,
      verdict: r.ok ? 'ok' : 'failed',
      ok: r.ok,
      manifest: r.manifest ?? null,
      checksums: r.checksums,
      assets: r.assets,
      images: r.images,
      problems: r.problems,
      notes: r.notes,
    },
    null,
    2,
  )}\n`;
}
