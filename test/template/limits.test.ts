import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  expandArgVariables,
  MAX_DEPTH,
  MAX_RANGE,
  parseTemplate,
  renderTemplate,
  renderWithArgVariables,
  TemplateError,
} from '../../src/template/index.js';
import { compileUserRegexp, RegexpSyntaxError } from '../../src/util/re2.js';

/**
 * Hostile templates finish quickly with a one-line TemplateError (or the
 * right result). Each case took seconds to minutes, overflowed the stack or
 * exhausted memory before the limits in src/template/limits.ts. The time
 * bound is deliberately loose: it only tells linear from quadratic.
 */
const LOOSE_MS = 3000;

function timed<T>(fn: () => T): { value?: T; error?: unknown; ms: number } {
  const t0 = performance.now();
  try {
    const value = fn();
    return { value, ms: performance.now() - t0 };
  } catch (error) {
    return { error, ms: performance.now() - t0 };
  }
}

function expectTemplateError(r: { error?: unknown; ms: number }, message: RegExp): TemplateError {
  expect(r.error, 'expected a TemplateError').toBeInstanceOf(TemplateError);
  const e = r.error as TemplateError;
  expect(e.message).toMatch(message);
  expect(e.message).not.toContain('\n');
  expect(r.ms).toBeLessThan(LOOSE_MS);
  return e;
}

describe('parsing is linear', () => {
  it('40,000 actions parse and render quickly', () => {
    const text = '{{ .A }}'.repeat(40_000);
    const r = timed(() => renderTemplate(text, { A: 'x' }));
    expect(r.error).toBeUndefined();
    expect(r.value).toBe('x'.repeat(40_000));
    expect(r.ms).toBeLessThan(LOOSE_MS);
  });

  it('40,000 actions over 40,000 lines report an error position quickly', () => {
    const text = '{{ .A }}\n'.repeat(40_000) + '{{ .A ';
    const e = expectTemplateError(timed(() => parseTemplate(text, 'archives[0].name_template')), /unclosed action/);
    expect(e.line).toBe(40_001);
  });

  it('20,000 declared variables: lookups do not scan them all', () => {
    const text = '{{ $a := 1 }}'.repeat(20_000) + '{{ $.A }}'.repeat(20_000);
    const r = timed(() => renderTemplate(text, { A: 'y' }));
    expect(r.value).toBe('y'.repeat(20_000));
    expect(r.ms).toBeLessThan(LOOSE_MS);
  });

  it('a template over 1 MiB is refused, naming the template', () => {
    expectTemplateError(
      timed(() => renderTemplate('{{ .A }}'.repeat(200_000), { A: 'x' }, { name: 'release.footer' })),
      /^template release\.footer:1:0: template is larger than 1 MiB \(1,600,000 characters\)$/,
    );
  });
});

describe('nesting is capped', () => {
  it('5,000 nested parentheses: an error, not a stack overflow', () => {
    const text = `{{ ${'('.repeat(5000)}1${')'.repeat(5000)} }}`;
    expectTemplateError(timed(() => parseTemplate(text, 'x')), new RegExp(`nesting is deeper than ${MAX_DEPTH} levels`));
  });

  it('5,000 nested if blocks and a 5,000-long else-if chain: errors', () => {
    expectTemplateError(timed(() => parseTemplate('{{ if 1 }}'.repeat(5000) + '{{ end }}'.repeat(5000))), /nesting is deeper/);
    expectTemplateError(timed(() => parseTemplate(`{{ if 0 }}${'{{ else if 0 }}'.repeat(5000)}{{ end }}`)), /nesting is deeper/);
  });

  it('nesting within the limit still works', () => {
    const depth = MAX_DEPTH - 2;
    expect(renderTemplate(`{{ ${'('.repeat(depth)}"ok"${')'.repeat(depth)} }}`, {})).toBe('ok');
  });
});

describe('iteration and output are capped', () => {
  it('{{ range 1000000000 }} is refused before it starts', () => {
    expectTemplateError(timed(() => renderTemplate('{{ range 1000000000 }}x{{ end }}', {}, { name: 'n' })), /range over 1,000,000,000 items exceeds the limit of 10,000/);
  });

  it(`range over ${MAX_RANGE} items works; nested ranges stop at the step limit`, () => {
    expect(renderTemplate(`{{ range ${MAX_RANGE} }}x{{ end }}`, {})).toHaveLength(MAX_RANGE);
    expectTemplateError(timed(() => renderTemplate('{{ range 10000 }}{{ range 10000 }}{{ end }}{{ end }}', {})), /more than 1,000,000 evaluation steps/);
  });

  it('output beyond 16 MiB is refused', () => {
    const big = 'x'.repeat(4096);
    expectTemplateError(timed(() => renderTemplate('{{ range 10000 }}{{ $.Big }}{{ end }}', { Big: big })), /output is larger than 16 MiB/);
  });

  it('replace with an empty search string cannot blow up', () => {
    expect(renderTemplate('{{ replace "abc" "" "-" }}', {})).toBe('-a-b-c-');
    const text = `{{ replace (replace (replace "${'a'.repeat(1000)}" "" "${'b'.repeat(1000)}") "" "${'c'.repeat(1000)}") "" "d" }}`;
    expectTemplateError(timed(() => renderTemplate(text, {})), /error calling replace: result is larger than 16 MiB/);
  });

  it('functions over a large value in a long range stop at the work limit', () => {
    const big = 'x'.repeat(8 << 20);
    expectTemplateError(timed(() => renderTemplate('{{ range 10000 }}{{ index $.Big 5 }}{{ end }}', { Big: big })), /processes more than 256 MiB of text/);
  });

  it('printf with a huge * width is a bad width, as in Go', () => {
    expect(renderTemplate('{{ printf "%*d" 1000000000 1 }}', {})).toBe('%!(BADWIDTH)1');
  });
});

describe('errors are formatted in linear time', () => {
  it('an error quoting 80,000 spaces is one short line', () => {
    const e = expectTemplateError(timed(() => renderTemplate(`{{ mustReadFile "${' '.repeat(80_000)}x" }}`, {}, { name: 'n' })), /^template n:1:3: error calling mustReadFile: open/);
    expect(e.message.length).toBeLessThan(2200);
    expect(e.message).toMatch(/… \(\d+ more characters\)$/);
  });
});

describe('argument expansion is linear', () => {
  it.each([
    ['${', '${'.repeat(40_000), ''],
    ['$<', '$<'.repeat(40_000), '$<'.repeat(40_000)],
    ['$', '$'.repeat(40_000), ''], // "$$" is the one-character name "$", unset: ""
  ])('40,000 × %s', (_, text, expected) => {
    const r = timed(() => expandArgVariables(text, {}, {}));
    expect(r.value).toBe(expected);
    expect(r.ms).toBeLessThan(LOOSE_MS);
  });

  it('40,000 × ${ inside a rendered signer setting', () => {
    const r = timed(() => renderWithArgVariables(`{{ .A }}${'${'.repeat(40_000)}`, { A: 'a' }, {}, {}));
    expect(r.value).toBe('a');
    expect(r.ms).toBeLessThan(LOOSE_MS);
  });
});

describe('user regular expressions run in linear time (RE2)', () => {
  it('^(a+)+$ on a 34-character non-matching subject returns at once', () => {
    const r = timed(() => renderTemplate(`{{ filter "${'a'.repeat(34)}!\\nkeep" "^(a+)+$" }}`, {}));
    expect(r.value).toBe('');
    expect(r.ms).toBeLessThan(LOOSE_MS);
    const long = timed(() => compileUserRegexp('^(a+)+$').test(`${'a'.repeat(100_000)}!`));
    expect(long.value).toBe(false);
    expect(long.ms).toBeLessThan(LOOSE_MS);
  });

  it('Go syntax: POSIX classes work; backreferences and lookaround are errors with Go\'s message', () => {
    expect(renderTemplate('{{ filter "abc\\n123" "^[[:alpha:]]+$" }}', {})).toBe('abc');
    expect(() => compileUserRegexp('(a)\\1')).toThrow(RegexpSyntaxError);
    expect(() => compileUserRegexp('(a)\\1')).toThrow('error parsing regexp: invalid escape sequence: `\\1`');
    expect(() => renderTemplate('{{ filter "x" "(?=a)" }}', {}, { name: 'release.footer' })).toThrow(
      /^template release\.footer:1:3: error calling filter: error parsing regexp: /,
    );
  });
});

describe('file functions are bounded', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'relsign-limits-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('readFile of a device that never ends is refused at once', () => {
    expectTemplateError(timed(() => renderTemplate('{{ mustReadFile "/dev/zero" }}', {})), /not a regular file/);
    expect(renderTemplate('[{{ readFile "/dev/zero" }}]', {})).toBe('[]');
  });

  it('checksum functions stream the file and match node:crypto', async () => {
    const file = join(dir, 'data.bin');
    const data = Buffer.alloc(3 * 1024 * 1024 + 7, 0x5a);
    await writeFile(file, data);
    expect(renderTemplate(`{{ sha256 "${file}" }}`, {})).toBe(createHash('sha256').update(data).digest('hex'));
    expect(renderTemplate(`{{ crc32 "${file}" }}`, {})).toMatch(/^[0-9a-f]{8}$/);
    await writeFile(join(dir, 'abc'), 'abc');
    expect(renderTemplate(`{{ crc32 "${join(dir, 'abc')}" }}`, {})).toBe('352441c2');
  });
});
