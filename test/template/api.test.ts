import { describe, expect, test } from 'vitest';
import { fieldsUsed, parseTemplate, renderBool, renderTemplate, TemplateError } from '../../src/template/index.js';
import { DATA } from './golden.js';

function errorOf(fn: () => unknown): TemplateError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TemplateError);
    return err as TemplateError;
  }
  throw new Error('expected a TemplateError');
}

describe('parseTemplate', () => {
  test('returns the cached parse for the same text', () => {
    const a = parseTemplate('{{ .ProjectName }}_{{ .Version }}', 'archives[0].name_template');
    const b = parseTemplate('{{ .ProjectName }}_{{ .Version }}', 'another name');
    expect(b).toBe(a);
    expect(a.text).toBe('{{ .ProjectName }}_{{ .Version }}');
    expect(parseTemplate('{{ .Version }}')).not.toBe(a);
  });

  test('syntax errors name the template and the position', () => {
    const err = errorOf(() => parseTemplate('{{ .Version }', 'archives[0].name_template'));
    expect(err.message).toBe('template archives[0].name_template:1:12: unexpected "}" in operand');
    expect(err.template).toBe('archives[0].name_template');
    expect(err.detail).toBe('unexpected "}" in operand');
    expect([err.line, err.column]).toEqual([1, 12]);
  });

  test('a cached syntax error is reported with each caller\'s name', () => {
    expect(errorOf(() => parseTemplate('{{ if }}', 'a')).message).toBe('template a:1:6: missing value for if');
    expect(errorOf(() => parseTemplate('{{ if }}', 'b')).message).toBe('template b:1:6: missing value for if');
  });

  test('unknown functions fail at parse time, even in branches never taken', () => {
    const err = errorOf(() => parseTemplate('{{ if false }}{{ tolowr .Os }}{{ end }}', 'builds[0].binary'));
    expect(err.message).toBe('template builds[0].binary:1:17: function "tolowr" not defined');
  });

  test('needs no data: missing fields are not parse errors', () => {
    expect(() => parseTemplate('{{ .DoesNotExist }}')).not.toThrow();
  });

  test('column is a byte offset within the line, line is 1-based', () => {
    const err = errorOf(() => parseTemplate('é\nab {{ nope }}', 'x'));
    expect(err.message).toBe('template x:2:6: function "nope" not defined');
  });

  test('default name is tmpl, as in GoReleaser', () => {
    expect(errorOf(() => parseTemplate('{{ end }}')).message).toBe('template tmpl:1:7: unexpected {{end}}');
  });
});

describe('renderTemplate', () => {
  test('a missing key names the template and the field', () => {
    const err = errorOf(() => renderTemplate('--output={{ .Versoin }}', DATA, { name: 'signs[0].args[1]' }));
    expect(err.message).toBe('template signs[0].args[1]:1:12: map has no entry for key "Versoin" (field .Versoin)');
  });

  test('a missing env var names it (use envOrDefault or isEnvSet instead)', () => {
    const err = errorOf(() => renderTemplate('{{ .Env.GPG_KEY }}', DATA, { name: 'signs[0].env[0]' }));
    expect(err.message).toContain('signs[0].env[0]');
    expect(err.message).toContain('"GPG_KEY" (field .Env.GPG_KEY)');
  });

  test('artifact fields are errors when the data has no artifact (like GoReleaser args)', () => {
    const { Os: _os, ...withoutArtifact } = DATA;
    expect(errorOf(() => renderTemplate('{{ .Os }}', withoutArtifact)).detail).toBe('map has no entry for key "Os" (field .Os)');
  });

  test('renders the same cached template with different data', () => {
    const t = '{{ .ProjectName }}_{{ .Version }}_{{ .Os }}_{{ .Arch }}';
    const out = ['linux', 'darwin', 'windows'].map((Os) => renderTemplate(t, { ...DATA, Os }));
    expect(out).toEqual(['relsign_1.2.3_linux_amd64', 'relsign_1.2.3_darwin_amd64', 'relsign_1.2.3_windows_amd64']);
  });

  test('variables do not leak between renders', () => {
    const t = '{{ $x := .Os }}{{ $x }}';
    expect(renderTemplate(t, { Os: 'a' })).toBe('a');
    expect(renderTemplate(t, { Os: 'b' })).toBe('b');
  });

  test('custom functions take precedence and receive the piped value last', () => {
    const funcs = { shout: (a: string, b: string) => `${a}+${b}!`, tolower: (s: string) => `custom(${s})` };
    expect(renderTemplate('{{ .Os | shout "x" }} {{ tolower "A" }}', DATA, { funcs })).toBe('x+linux! custom(A)');
  });

  test('a template using a custom function fails to parse without it', () => {
    expect(renderTemplate('{{ myfn }}', DATA, { funcs: { myfn: () => 'ok' } })).toBe('ok');
    expect(errorOf(() => renderTemplate('{{ myfn }}', DATA, { name: 'n' })).message).toBe('template n:1:3: function "myfn" not defined');
  });

  test('an exception from a custom function becomes a TemplateError', () => {
    const funcs = { boom: () => { throw new Error('kaput'); } };
    const err = errorOf(() => renderTemplate('{{ boom }}', DATA, { name: 'n', funcs }));
    expect(err.message).toBe('template n:1:3: error calling boom: kaput');
    expect(err.cause).toBeInstanceOf(Error);
  });

  test('messages are one line even when a value has newlines', () => {
    const funcs = { boom: () => { throw new Error('line one\nline two'); } };
    expect(errorOf(() => renderTemplate('{{ boom }}', DATA, { funcs })).message).toBe('template tmpl:1:3: error calling boom: line one line two');
  });

  test('Env values that are undefined count as missing', () => {
    const data = { Env: { SET: 'x', UNSET: undefined } };
    expect(renderTemplate('{{ isEnvSet "UNSET" }} {{ envOrDefault "UNSET" "d" }}', data)).toBe('false d');
    expect(errorOf(() => renderTemplate('{{ .Env.UNSET }}', data)).detail).toBe('map has no entry for key "UNSET" (field .Env.UNSET)');
  });

  test('renders the same result on every call (the parsed template is reused, not mutated)', () => {
    const t = '{{ .ProjectName }}_{{ .Version }}_{{ .Os }}_{{ .Arch }}{{ with .Arm }}v{{ . }}{{ end }}';
    const first = renderTemplate(t, DATA);
    expect(first).toBe('relsign_1.2.3_linux_amd64');
    const seen = new Set<string>();
    for (let i = 0; i < 20_000; i++) seen.add(renderTemplate(t, DATA));
    expect([...seen]).toEqual([first]);
    // Another data set through the same (cached) template gives its own result.
    expect(renderTemplate(t, { ...DATA, ProjectName: 'other', Version: '9.9.9', Os: 'plan9', Arch: '386', Arm: '6' })).toBe('other_9.9.9_plan9_386v6');
  });
});

describe('renderBool (GoReleaser Template.Bool)', () => {
  test.each([
    [' TruE   ', true],
    ['true', true],
    ['TRUE', true],
    ['\ttrue\n', true],
    ['    ', false],
    ['', false],
    ['false', false],
    ['yada yada', false],
    ['1', false],
  ])('%j → %s', (value, expected) => {
    expect(renderBool('{{ .Env.FOO }}', { Env: { FOO: value } })).toBe(expected);
  });

  test('templates and literals', () => {
    expect(renderBool('{{ .IsSnapshot }}', DATA)).toBe(false);
    expect(renderBool('{{ not .IsSnapshot }}', DATA)).toBe(true);
    expect(renderBool('{{ eq .Os "linux" }}', DATA)).toBe(true);
    expect(renderBool('true', {})).toBe(true);
  });

  test('errors propagate', () => {
    expect(errorOf(() => renderBool('{{ .Nope }}', {}, { name: 'release.draft' })).template).toBe('release.draft');
  });
});

describe('fieldsUsed', () => {
  test.each([
    ['plain text', []],
    ['{{ .Version }}', [['Version']]],
    ['{{ .Env.FOO }}-{{ .Env.FOO }}', [['Env', 'FOO']]],
    ['{{ $.Tag }}', [['Tag']]],
    ['{{ .ProjectName }}_{{ .Version }}_{{ .Os }}_{{ .Arch }}{{ with .Arm }}v{{ . }}{{ end }}', [['ProjectName'], ['Version'], ['Os'], ['Arch'], ['Arm']]],
    ['{{ if .IsSnapshot }}{{ .ShortCommit }}{{ else }}{{ .Tag | trimprefix "v" }}{{ end }}', [['IsSnapshot'], ['ShortCommit'], ['Tag']]],
    ['{{ with .Env }}{{ .HOME }}{{ end }}', [['Env'], ['Env', 'HOME']]],
    ['{{ range .List }}{{ .Name }}{{ $.Version }}{{ end }}', [['List'], ['Version']]],
    ['{{ index .Env "X" }} {{ printf "%s" (tolower .Os) }}', [['Env'], ['Os']]],
    ['{{ $v := .Version }}{{ $v }}', [['Version']]],
    ['{{ range $i, $e := .List }}{{ $e }}{{ else }}{{ .Empty }}{{ end }}', [['List'], ['Empty']]],
  ] as Array<[string, string[][]]>)('%s', (text, expected) => {
    expect(fieldsUsed(text)).toEqual(expected);
  });

  test('accepts unknown function names (they may be custom functions)', () => {
    expect(fieldsUsed('{{ custom .Version }}')).toEqual([['Version']]);
  });

  test('throws a TemplateError on syntax errors', () => {
    expect(() => fieldsUsed('{{ .Version }')).toThrow(TemplateError);
  });
});
