/**
 * JSON the way Go's `json.Marshal` writes it, for bytes that must match what
 * cosign signs: compact, object keys in the order given (struct order) or
 * sorted (Go maps), and `<`, `>`, `&`, U+2028, U+2029 escaped as `\u003c`…
 * Invalid UTF-16 (a lone surrogate) becomes U+FFFD, as Go does for invalid UTF-8.
 */

const GO_ESCAPES: Record<string, string> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Go's string encoding. */
export function goString(s: string): string {
  return JSON.stringify(s.replace(LONE_SURROGATE, '\uFFFD')).replace(/[<>&\u2028\u2029]/g, (c) => GO_ESCAPES[c]!);
}

/** Compact JSON with Go's escaping; keys keep their insertion order (build maps with `sortedObject`). */
export function goJson(value: unknown, depth = 0): string {
  if (depth > 64) throw new Error('value nested too deeply');
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return goString(value);
  if (typeof value === 'number' || typeof value === 'boolean') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((v) => goJson(v, depth + 1)).join(',')}]`;
  if (typeof value === 'object') {
    const parts = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${goString(k)}:${goJson(v, depth + 1)}`);
    return `{${parts.join(',')}}`;
  }
  throw new Error(`cannot encode a ${typeof value} as JSON`);
}

/** A copy with keys sorted by their bytes at every level (Go marshals map keys sorted). */
export function sortedObject(value: unknown, depth = 0): unknown {
  if (depth > 64) throw new Error('value nested too deeply');
  if (Array.isArray(value)) return value.map((v) => sortedObject(v, depth + 1));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(value).sort(compareBytes)) out[k] = sortedObject((value as Record<string, unknown>)[k], depth + 1);
  return out;
}

/** Go sorts map keys as byte strings (UTF-8), not UTF-16 code units. */
function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
