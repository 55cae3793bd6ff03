import { describe, expect, test } from 'vitest';
import { expandArgVariables, renderTemplate, TemplateError } from '../../src/template/index.js';
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

describe('expansion order: argument variables first, then Go templates (as GoReleaser)', () => {
  const resolve = (arg: string, env: Record<string, string>) =>
    renderTemplate(expandArgVariables(arg, VARS, env), { ...DATA, Env: { ...env, ...VARS } }, { name: 'signs[0].args[0]' });

  test('variables and templates combine', () => {
    expect(resolve('--bundle=${artifact}.{{ .Version }}.bundle', {})).toBe('--bundle=dist/relsign_1.2.3_linux_amd64.tar.gz.1.2.3.bundle');
    expect(resolve('{{ .Env.artifact }}', {})).toBe(VARS.artifact);
  });

  test('double evaluation: an env value containing a template is rendered after expansion', () => {
    expect(resolve('--note=$NOTE', { NOTE: 'release {{ .Version }}' })).toBe('--note=release 1.2.3');
  });

  test('double evaluation: an env value with a stray "{{" breaks the template', () => {
    expect(() => resolve('--password=$PASS', { PASS: 'ab{{cd' })).toThrow(TemplateError);
  });

  test('{{ .Env.NAME }} is the verbatim spelling: template output is not evaluated again', () => {
    expect(resolve('--note={{ .Env.NOTE }}', { NOTE: 'release {{ .Version }}' })).toBe('--note=release {{ .Version }}');
  });

  test('a "$" produced by a template is not expanded (expansion came first)', () => {
    expect(resolve('{{ printf "%s%s" "$" "artifact" }}', {})).toBe('$artifact');
    // …whereas "$artifact" written inside an action is expanded before the template runs.
    expect(resolve('{{ "$artifact" }}', {})).toBe(VARS.artifact);
  });
});
