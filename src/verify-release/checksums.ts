/**
 * A checksums file as GoReleaser, relsign and `sha256sum` write it: one
 * `<hex digest>  <name>` line per file (`*<name>` in binary mode). Read
 * bounded; SHA-256 lines only (64 hex digits).
 */
import { RelsignError } from '../util/errors.js';

export const MAX_CHECKSUMS_BYTES = 4 * 1024 * 1024;
const MAX_LINES = 20_000;

/** Names a checksums file goes by when no manifest says which asset it is. */
export function looksLikeChecksums(name: string): boolean {
  return /checksums\.txt$/i.test(name) || name === 'SHA256SUMS';
}

/** name → sha256 hex. Throws a one-line RelsignError naming `source` and the line. */
export function parseChecksums(text: string, source: string): Map<string, string> {
  const out = new Map<string, string>();
  const lines = text.split('\n');
  if (lines.length > MAX_LINES + 1) throw new RelsignError(`${source}: more than ${MAX_LINES} lines`);
  for (const [i, raw] of lines.entries()) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') continue;
    const m = /^([0-9a-fA-F]{64}) [ *](.+)$/.exec(line);
    if (!m) throw new RelsignError(`${source}: line ${i + 1} is not "<sha256>  <name>"`);
    const name = m[2]!;
    const hex = m[1]!.toLowerCase();
    const before = out.get(name);
    if (before !== undefined && before !== hex) throw new RelsignError(`${source}: line ${i + 1} lists ${JSON.stringify(name.slice(0, 80))} again with another digest`);
    out.set(name, hex);
  }
  return out;
}
