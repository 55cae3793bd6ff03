import { readFileSync } from 'node:fs';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { formatPath, type ConfigPath, type ConfigSource } from './source.js';

let compiled: ValidateFunction | undefined;
let schemaCache: Record<string, unknown> | undefined;

export function loadSchema(): Record<string, unknown> {
  schemaCache ??= JSON.parse(
    readFileSync(new URL('../../schema/relsign.schema.json', import.meta.url), 'utf8'),
  ) as Record<string, unknown>;
  return schemaCache;
}

async function validator(): Promise<ValidateFunction> {
  if (compiled) return compiled;
  const { Ajv2020 } = await import('ajv/dist/2020.js');
  const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true, verbose: true });
  compiled = ajv.compile(loadSchema());
  return compiled;
}

/** A problem in the config, located so the message can say `file:line:col: path: what`. */
export interface ConfigIssue {
  path: ConfigPath;
  message: string;
  /** Point at the key rather than the value (unknown keys). */
  atKey?: boolean;
}

export function formatIssue(source: ConfigSource, issue: ConfigIssue): string {
  return `${source.locate(issue.path, { key: issue.atKey })}: ${formatPath(issue.path)}: ${issue.message}`;
}

/** Schema validation with messages a person can act on (one per problem). */
export async function validateAgainstSchema(data: unknown): Promise<ConfigIssue[]> {
  const validate = await validator();
  if (validate(data)) return [];
  return simplify(validate.errors ?? [], data);
}

function pointerToPath(pointer: string): Array<string | number> {
  if (!pointer) return [];
  return pointer
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function valueAt(data: unknown, path: ReadonlyArray<string | number>): unknown {
  let v: unknown = data;
  for (const p of path) v = v == null ? undefined : (v as Record<string | number, unknown>)[p];
  return v;
}

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (Number.isInteger(v)) return 'integer';
  return typeof v;
}

/**
 * ajv reports every failed branch of an anyOf; keep the branch that matches the
 * value's type (so an object hook with a typo says "unknown key"), else say
 * which types were allowed.
 */
function simplify(errors: ErrorObject[], data: unknown): ConfigIssue[] {
  const anyOfs = errors.filter((e) => e.keyword === 'anyOf');
  const dropped = new Set<ErrorObject>();
  const replacements: ConfigIssue[] = [];
  for (const a of anyOfs) {
    dropped.add(a);
    const branchErrors = errors.filter((e) => e !== a && e.schemaPath.startsWith(a.schemaPath + '/'));
    const branches = new Map<string, ErrorObject[]>();
    for (const e of branchErrors) {
      const idx = e.schemaPath.slice(a.schemaPath.length + 1).split('/')[0]!;
      branches.set(idx, [...(branches.get(idx) ?? []), e]);
    }
    // A branch whose own type check passed is the one the user meant.
    const meant = [...branches.values()].find(
      (errs) => !errs.some((e) => (e.keyword === 'type' || e.keyword === 'const') && e.instancePath === a.instancePath),
    );
    for (const e of branchErrors) if (!meant || !meant.includes(e)) dropped.add(e);
    if (!meant) {
      const types = new Set<string>();
      for (const errs of branches.values())
        for (const e of errs)
          if (e.keyword === 'type') types.add(String(e.params.type));
          else if (e.keyword === 'const') types.add(JSON.stringify(e.params.allowedValue));
      const path = pointerToPath(a.instancePath);
      replacements.push({
        path,
        message: `must be ${[...types].join(' or ') || 'a different value'}, got ${jsonType(valueAt(data, path))}`,
      });
    }
  }
  const issues = errors.filter((e) => !dropped.has(e)).map((e) => toIssue(e, data));
  const all = [...issues, ...replacements];
  const seen = new Set<string>();
  return all.filter((i) => {
    const k = formatPath(i.path) + '|' + i.message;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function toIssue(e: ErrorObject, data: unknown): ConfigIssue {
  const path = pointerToPath(e.instancePath);
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String(e.params.additionalProperty);
      const known = Object.keys((e.parentSchema as { properties?: Record<string, unknown> }).properties ?? {});
      const hint = path.length === 0 ? GORELEASER_HINTS[key] : undefined;
      if (hint) return { path: [...path, key], atKey: true, message: `unknown key: ${hint}` };
      const guess = closest(key, known);
      return {
        path: [...path, key],
        atKey: true,
        message: `unknown key${guess ? `, did you mean ${guess}?` : ''}`,
      };
    }
    case 'type':
      return { path, message: `must be ${e.params.type}, got ${jsonType(valueAt(data, path))}` };
    case 'enum':
      return {
        path,
        message: `must be one of ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}, got ${JSON.stringify(valueAt(data, path))}`,
      };
    case 'required':
      return { path: [...path, String(e.params.missingProperty)], message: 'is required' };
    case 'pattern':
      return { path, message: `${JSON.stringify(valueAt(data, path))} does not match ${e.params.pattern}` };
    default:
      return { path, message: e.message ?? 'is invalid' };
  }
}

/** Top-level GoReleaser sections relsign spells differently or does not have. */
const GORELEASER_HINTS: Record<string, string> = Object.assign(Object.create(null) as Record<string, string>, {
  dockers: 'GoReleaser\'s dockers is images: in relsign (images are built without Docker; see docs/images.md)',
  dockers_v2: 'GoReleaser\'s dockers_v2 is images: in relsign (one entry per image, with platforms:)',
  kos: 'GoReleaser\'s kos is images: in relsign',
  docker_manifests: 'GoReleaser\'s docker_manifests is images: in relsign (list platforms: on the image; the multi-platform index is made for you)',
  nfpms: 'nfpms (Linux packages) is not supported by relsign yet',
  brews: 'brews (Homebrew taps) is not supported by relsign yet',
});

/** Edit distance with adjacent swaps counted once (sings → signs): a suggestion only when close enough to be a typo. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestScore = Infinity;
  for (const c of candidates) {
    const d = distance(word.toLowerCase(), c.toLowerCase());
    if (d < bestScore) {
      bestScore = d;
      best = c;
    }
  }
  const limit = Math.max(1, Math.floor(word.length / 3));
  return bestScore <= limit ? best : undefined;
}

/** Keys longer than this get no suggestion (bounds the work on hostile input). */
const MAX_SUGGEST_LENGTH = 64;

function distance(a: string, b: string): number {
  if (a.length > MAX_SUGGEST_LENGTH || b.length > MAX_SUGGEST_LENGTH) return Infinity;
  // Optimal string alignment: three rows of the Levenshtein table plus transpositions.
  let before = new Array<number>(b.length + 1).fill(0);
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = new Array<number>(b.length + 1).fill(0);
    cur[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, before[j - 2]! + 1);
      cur[j] = d;
    }
    before = prev;
    prev = cur;
  }
  return prev[b.length]!;
}
