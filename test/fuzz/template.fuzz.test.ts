/**
 * Fuzzes the template engine: the parser (parseTemplate, fieldsUsed), the
 * renderer (renderTemplate, renderWithArgVariables) and the argument
 * expander (expandArgVariables), on golden templates mutated as text and on
 * token soup built from the template language's own pieces (delimiters, trim
 * markers, keywords, functions, quotes, parentheses, `$` forms, deep nesting,
 * long repeats). Only TemplateError may come out, on one line; any other
 * error (TypeError, RangeError from a stack overflow, …) fails the test with
 * the input that caused it. Seeded, so a failure is reproducible:
 *
 *   RELSIGN_FUZZ_SEED=<seed> npx vitest run test/fuzz/template.fuzz.test.ts
 *
 * RELSIGN_FUZZ_RUNS scales the number of inputs.
 */
import { describe, expect, it } from 'vitest';
import {
  expandArgVariables,
  fieldsUsed,
  parseTemplate,
  renderTemplate,
  renderWithArgVariables,
  TemplateError,
} from '../../src/template/index.js';
import { ALL_GOLDEN, DATA, ERRORS } from '../template/golden.js';

const SEED = Number(process.env.RELSIGN_FUZZ_SEED ?? 0x7e3a_11f5) >>> 0;
const RUNS = Number(process.env.RELSIGN_FUZZ_RUNS ?? 3000);

/** mulberry32: tiny, and fully determined by its seed on every Node version. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  const int = (n: number) => Math.floor(next() * n);
  return { next, int, pick: <T>(xs: readonly T[]): T => xs[int(xs.length)]!, chance: (p: number) => next() < p };
}
type Rng = ReturnType<typeof rng>;

// File-reading and clock functions are left out: the fuzzer must not read the disk.
const UNSAFE = /File|sha|md5|crc32|blake|time|abs/;
const CORPUS = [...Object.values(ALL_GOLDEN).flat().map(([t]) => t), ...ERRORS.map(([t]) => t)].filter((t) => !UNSAFE.test(t));

const PIECES = [
  '{{', '}}', '{{- ', ' -}}', '{{/*', '*/}}', ' ', '\n', '\t', '.', '.Version', '.Env', '.Env.FOO', '.Env.NOPE', '$', '$x', '$y', ':=', '=',
  ',', '|', '(', ')', 'if', 'else', 'else if', 'end', 'range', 'with', 'break', 'continue', 'define', 'template', 'nil', 'true', 'false',
  '"', '"a"', '"%d"', '"%s"', '"%*d"', '`raw`', '`', "'x'", "'", '\\', '0', '1', '-1', '1e9', '0x10', '1.5', '1000000000', '9999999999999999999',
  'printf', 'print', 'println', 'len', 'index', 'slice', 'eq', 'ne', 'lt', 'and', 'or', 'not', 'call', 'html', 'js', 'urlquery',
  'replace', 'split', 'contains', 'tolower', 'toupper', 'trim', 'trimprefix', 'title', 'dir', 'base', 'join', 'incmajor', 'incpatch',
  'filter', 'reverseFilter', '"^(a+)+$"', '"(a"', '"[[:alpha:]]"', 'mdv2escape', 'envOrDefault', 'isEnvSet', 'map', 'indexOrDefault',
  'urlPathEscape', 'englishJoin', 'list', '$<artifact>', '${artifact}', '$artifact', '${', '$<', '$HOME', '$$', '$1', 'é', '😀', '\u0000',
];

function tokenSoup(r: Rng): string {
  const n = 1 + r.int(r.chance(0.1) ? 200 : 25);
  let s = '';
  for (let i = 0; i < n; i++) s += r.pick(PIECES) + (r.chance(0.4) ? ' ' : '');
  return s;
}

function nested(r: Rng): string {
  const depth = r.pick([50, 99, 101, 500, 3000]);
  switch (r.int(4)) {
    case 0: return `{{ ${'('.repeat(depth)}1${')'.repeat(r.chance(0.8) ? depth : depth - 1)} }}`;
    case 1: return '{{ if 1 }}'.repeat(depth) + 'x' + '{{ end }}'.repeat(r.chance(0.8) ? depth : depth - 1);
    case 2: return `{{ if 0 }}${'{{ else if 0 }}'.repeat(depth)}{{ end }}`;
    default: return `{{ ${'len (list '.repeat(depth)}"a"${')'.repeat(depth)} }}`;
  }
}

function mutate(r: Rng, text: string): string {
  let s = text;
  const edits = 1 + r.int(4);
  for (let e = 0; e < edits; e++) {
    const at = r.int(s.length + 1);
    switch (r.int(6)) {
      case 0: s = s.slice(0, at) + s.slice(at + 1 + r.int(4)); break; // delete
      case 1: s = s.slice(0, at) + r.pick(PIECES) + s.slice(at); break; // insert a piece
      case 2: s = s.slice(0, at); break; // truncate
      case 3: s = s.slice(0, at) + String.fromCharCode(r.int(0x80)) + s.slice(at); break; // ASCII noise
      case 4: s = s + r.pick(CORPUS); break; // splice
      default: { // repeat a slice
        const len = 1 + r.int(8);
        s = s.slice(0, at) + s.slice(at, at + len).repeat(1 + r.int(r.chance(0.1) ? 5000 : 20)) + s.slice(at + len);
      }
    }
  }
  return s;
}

function input(r: Rng): string {
  const k = r.int(10);
  if (k < 4) return mutate(r, r.pick(CORPUS));
  if (k < 8) return tokenSoup(r);
  if (k < 9) return nested(r);
  return r.pick(CORPUS);
}

const VARS = { artifact: 'dist/a_{{ .Env.FOO }}_"q"\\.tar.gz', artifactName: 'a.tar.gz', artifactID: 'default', digest: '', signature: 's', certificate: '' };
const ENV = { HOME: '/home/me', FOO: 'bar', PASS: '{{ .Version }}' };

/** Runs `fn`; returns the unexpected error, if any. */
function unexpected(fn: () => unknown): unknown {
  try {
    fn();
    return undefined;
  } catch (err) {
    if (err instanceof TemplateError && !err.message.includes('\n')) return undefined;
    return err;
  }
}

describe(`template engine fuzz (seed ${SEED.toString(16)}, ${RUNS} inputs)`, () => {
  it('parser, renderer and expander raise only one-line TemplateErrors', () => {
    const r = rng(SEED);
    const failures: string[] = [];
    let rendered = 0;
    for (let i = 0; i < RUNS && failures.length < 5; i++) {
      const text = input(r);
      const calls: Array<[string, () => unknown]> = [
        ['parseTemplate', () => parseTemplate(text, 'fuzz')],
        ['fieldsUsed', () => fieldsUsed(text)],
        ['renderTemplate', () => { renderTemplate(text, DATA, { name: 'fuzz' }); rendered++; }],
        ['renderWithArgVariables', () => renderWithArgVariables(text, { ...DATA, Env: { ...ENV, ...VARS } }, VARS, ENV, { name: 'fuzz' })],
        ['expandArgVariables', () => expandArgVariables(text, VARS, ENV, 'fuzz')],
      ];
      for (const [name, fn] of calls) {
        const err = unexpected(fn);
        if (err !== undefined) {
          const what = err instanceof Error ? `${err.name}: ${err.message.slice(0, 200)}` : String(err);
          failures.push(`case ${i} ${name}(${JSON.stringify(text.slice(0, 300))}${text.length > 300 ? `… ${text.length} chars` : ''}) threw ${what}`);
        }
      }
    }
    expect(failures).toEqual([]);
    // The generator reaches the renderer, not only syntax errors.
    expect(rendered).toBeGreaterThan(RUNS / 10);
  });
});
