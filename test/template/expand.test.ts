import { describe, expect, test } from 'vitest';
import { expandArgVariables, renderWithArgVariables, TemplateError } from '../../src/template/index.js';
import { DATA } from './golden.js';

const VARS = {
  artifact: 'dist/relsign_1.2.3_linux_amd64.tar.gz',
  signature: 'dist/relsign_1.2.3_linux_amd64.tar.gz.sig',
  certificate: 'dist/relsign_1.2.3_linux_amd64.tar.gz.pem',
  artifactID: 'default',
  digest: '',
  artifactName: 'relsign_1.2.3_linux_amd64.tar.gz',
};
const ENV = { HOME: '/home/me', COSIGN_PASSWORD: 's3cret', artifact: 'from-env', UNSET: undefined };

describe('expandArgVariables', () => {
  test.each([
    ['--output-signature=$<signature>', '--output-signature=dist/relsign_1.2.3_linux_amd64.tar.gz.sig'],
    ['${artifact}', 'dist/relsign_1.2.3_linux_amd64.tar.gz'],
    ['$artifact', 'dist/relsign_1.2.3_linux_amd64.tar.gz'],
    ['$artifact.sig', 'dist/relsign_1.2.3_linux_amd64.tar.gz.sig'], // a name stops at the first non-[A-Za-z0-9_]
    ['${artifactID}-$<artifactName>', 'default-relsign_1.2.3_linux_amd64.tar.gz'],
    ['$HOME/.key ${COSIGN_PASSWORD}', '/home/me/.key s3cret'],
    ['$<HOME>', '/home/me'], // $<…> also reads the environment
    ['x$artifactx', 'x'], // os.Expand: the name is "artifactx", unknown → ""
    ['${NOPE}|$NOPE|$UNSET', '||'], // unknown names expand to "" (GoReleaser behaviour)
    ['$$|$1|$@|${*}', '|||'], // one-character shell names, unknown → ""
    ['a${}b', 'ab'], // bad syntax is dropped
    ['a${b', 'ab'], // "${" without "}" is dropped
    ['cost: 5$', 'cost: 5$'], // trailing $ is kept
    ['$ x $- $.', '$ x  $.'], // $ before a non-name is kept; "-" is a shell name
    ['$<not closed', '$<not closed'], // not the $<name> syntax: os.Expand keeps "$<"
    ['$<a b>', '$<a b>'],
    ['no variables', 'no variables'],
    ['$digest', ''],
  ])('%s', (text, expected) => {
    expect(expandArgVariables(text, VARS, ENV)).toBe(expected);
  });

  test('argument variables take precedence over the environment', () => {
    expect(expandArgVariables('$artifact ${artifact} $<artifact>', VARS, ENV)).toBe(`${VARS.artifact} ${VARS.artifact} ${VARS.artifact}`);
    expect(expandArgVariables('$artifact', {}, ENV)).toBe('from-env');
  });

  test('an unknown $<name> is an error naming it and the known variables', () => {
    let err: unknown;
    try {
      expandArgVariables('--key=$<artifcat>', VARS, ENV, 'signs[0].args[2]');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TemplateError);
    const e = err as TemplateError;
    expect(e.template).toBe('signs[0].args[2]');
    expect(e.message).toBe(
      'template signs[0].args[2]: unknown variable $<artifcat> (argument variables: $<artifact>, $<artifactID>, $<artifactName>, $<certificate>, $<digest>, $<signature>)',
    );
  });

  test('an undefined environment value is unknown for $<name>', () => {
    expect(() => expandArgVariables('$<UNSET>', VARS, ENV)).toThrow('unknown variable $<UNSET>');
  });

  test('the result is a value, not re-expanded', () => {
    expect(expandArgVariables('$A', { A: '$B' }, { B: 'no' })).toBe('$B');
  });
});

describe('argument variables in templates are values (renderWithArgVariables)', () => {
  const resolve = (arg: string, env: Record<string, string>, vars: Record<string, string> = VARS) =>
    renderWithArgVariables(arg, { ...DATA, Env: { ...env, ...vars } }, vars, env, { name: 'signs[0].args[0]' });

  test('variables and templates combine', () => {
    expect(resolve('--bundle=${artifact}.{{ .Version }}.bundle', {})).toBe('--bundle=dist/relsign_1.2.3_linux_amd64.tar.gz.1.2.3.bundle');
    expect(resolve('{{ .Env.artifact }}', {})).toBe(VARS.artifact);
    expect(resolve('no template: $<artifactName> $HOME', { HOME: '/h' })).toBe('no template: relsign_1.2.3_linux_amd64.tar.gz /h');
  });

  test('an env value holding template text stays literal (it is not rendered)', () => {
    expect(resolve('--note=$NOTE', { NOTE: 'release {{ .Version }}' })).toBe('--note=release {{ .Version }}');
  });

  test('a value with a stray "{{", a quote or a backslash is substituted as is', () => {
    expect(resolve('--password=$PASS {{ .Version }}', { PASS: 'ab{{cd"e\\f' })).toBe('--password=ab{{cd"e\\f 1.2.3');
  });

  test('an artifact name holding {{ .Env.X }} (from a tag) stays literal; the variable is never read', () => {
    const vars = { ...VARS, artifact: 'dist/demo_1.2.4-{{.Env.GITHUB_TOKEN}}.tar.gz' };
    const env = { GITHUB_TOKEN: 'ghp_secret' };
    expect(resolve('${artifact}.sig', env, vars)).toBe('dist/demo_1.2.4-{{.Env.GITHUB_TOKEN}}.tar.gz.sig');
    expect(resolve('{{ .ProjectName }}-$<artifact>.sig', env, vars)).toBe('relsign-dist/demo_1.2.4-{{.Env.GITHUB_TOKEN}}.tar.gz.sig');
    expect(resolve('{{ "$artifact" }}', env, vars)).toBe(vars.artifact);
  });

  test('{{ .Env.NAME }} output is not evaluated again either', () => {
    expect(resolve('--note={{ .Env.NOTE }}', { NOTE: 'release {{ .Version }} $artifact' })).toBe('--note=release {{ .Version }} $artifact');
  });

  test('a "$" produced by a template is not expanded', () => {
    expect(resolve('{{ printf "%s%s" "$" "artifact" }}', {})).toBe('$artifact');
  });

  test('variables inside string constants are values too, so functions see the value (as in GoReleaser)', () => {
    expect(resolve('{{ "$artifact" }}', {})).toBe(VARS.artifact);
    expect(resolve('{{ trimprefix "${artifact}" "dist/" }}', {})).toBe('relsign_1.2.3_linux_amd64.tar.gz');
    expect(resolve('{{ if eq "$artifactID" "default" }}yes{{ end }}', {})).toBe('yes');
  });

  test('an unknown $<name> is still an error naming the setting', () => {
    expect(() => resolve('{{ .Version }}-$<artifcat>', {})).toThrow(/^template signs\[0\]\.args\[0\]: unknown variable \$<artifcat>/);
  });
});
