import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createContext } from '../../src/pipeline/context.js';
import { Logger } from '../../src/pipeline/logger.js';
import { envNamesReferenced, registerConfiguredSecrets } from '../../src/pipeline/secrets.js';
import { redactConfig } from '../../src/stages/metadata.js';
import { looksLikeSecretName, Redactor } from '../../src/util/redact.js';
import { parse as parseYaml } from 'yaml';

function capture(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  });
  return { stream, text: () => chunks.join('') };
}

describe('secret environment names', () => {
  it.each(['GH_PAT', 'NPM_AUTH', 'COSIGN_PWD', 'MY_DEPLOY_PASS', 'GITHUB_TOKEN', 'COSIGN_PASSWORD', 'AWS_SECRET_ACCESS_KEY', 'COSIGN_KEY',
    'DOCKER_CREDENTIALS', 'gh_pat', 'npm-auth', 'SIGNING_PASSPHRASE', 'MY_APIKEY', 'NPM_AUTH_TOKEN', 'KEY'])('%s is secret', (name) => {
    expect(looksLikeSecretName(name)).toBe(true);
  });
  it.each(['PATH', 'LD_LIBRARY_PATH', 'PWD', 'OLDPWD', 'KEYBOARD', 'XKB_KEYBOARD_LAYOUT', 'GIT_AUTHOR_NAME', 'PASSAGE', 'HOME', 'PATTERN',
    'MONKEY', 'COMPASS_DIR', 'AUTHOR'])('%s is not secret', (name) => {
    expect(looksLikeSecretName(name)).toBe(false);
  });
});

describe('Redactor', () => {
  it('redacts a short common-word secret only as a whole word, so surrounding text is not mangled', () => {
    const r = new Redactor();
    r.add('hello'); // cosign's test-vector password
    expect(r.redact('say hello to othello; --password=hello')).toBe('say [REDACTED] to othello; --password=[REDACTED]');
  });
  it('does not search for secrets shorter than 4 characters', () => {
    const r = new Redactor();
    r.add('abc');
    expect(r.redact('abc abcdef')).toBe('abc abcdef');
  });
  it('also redacts the JSON-escaped and URL-encoded forms of a secret', () => {
    const r = new Redactor();
    const pw = 'pa"ss\\w rd!';
    r.add(pw);
    expect(r.redact(JSON.stringify({ a: `x ${pw} y` }))).toBe('{"a":"x [REDACTED] y"}');
    expect(r.redact(`https://h/?p=${encodeURIComponent(pw)}`)).toBe('https://h/?p=[REDACTED]');
  });
});

describe('--json log lines', () => {
  it('never carry a password holding " or \\, in the message or in a field, raw or escaped', () => {
    const pw = 'se"cr\\et-pw';
    const r = new Redactor();
    r.addFromEnv({ COSIGN_PASSWORD: pw });
    const out = capture();
    const log = new Logger({ json: true, stream: out.stream, redactor: r });
    log.info(`running echo ${pw}`, { cmd: ['echo', pw], nested: { deep: `x${pw}` } });
    const text = out.text();
    expect(text).not.toContain(pw);
    expect(text).not.toContain(JSON.stringify(pw).slice(1, -1));
    expect(text).not.toContain('cr\\');
    const record = JSON.parse(text) as { msg: string; cmd: string[]; nested: { deep: string } };
    expect(record.msg).toBe('running echo [REDACTED]');
    expect(record.cmd).toEqual(['echo', '[REDACTED]']);
    expect(record.nested.deep).toBe('x[REDACTED]');
  });
});

describe('secret settings', () => {
  it('finds the environment names a setting reads, in every spelling', () => {
    expect(envNamesReferenced('{{ .Env.A }}-$B-${C}-$<D>').sort()).toEqual(['A', 'B', 'C', 'D']);
    expect(envNamesReferenced('env://SIGNING_KEY_PEM')).toEqual(['SIGNING_KEY_PEM']);
  });

  it('registers the values behind password, stdin, key (env://), registry credentials and signs env, whatever their names', async () => {
    const raw = parseYaml(
      [
        'project_name: demo',
        'signs:',
        '  - cmd: sh',
        '    stdin: "$PW"',
        '    env: ["PW={{ .Env.INNER_MATERIAL }}"]',
        '    artifacts: checksum',
        '  - signer: builtin',
        '    key: env://SIGNING_PEM',
        '    password: "{{ .Env.UNLOCK_WORD }}"',
        'docker_signs:',
        '  - stdin: literal-stdin-secret',
        'registries:',
        '  - username: "{{ .Env.REG_USER_NAME }}"',
        '    password: plain-registry-pass',
      ].join('\n'),
    ) as Record<string, unknown>;
    const r = new Redactor();
    const ctx = createContext({
      cwd: '/nonexistent',
      config: { dist: 'dist' } as never,
      rawConfig: raw,
      log: new Logger({ stream: capture().stream }),
      redactor: r,
      env: {
        INNER_MATERIAL: 'inner-material-1',
        SIGNING_PEM: '-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nAAAABBBBCCCCDDDD\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----',
        UNLOCK_WORD: 'unlock-word-2',
        REG_USER_NAME: 'registry-user-3',
        UNRELATED: 'unrelated-value',
      },
    });
    registerConfiguredSecrets(ctx);
    const line = 'inner-material-1 AAAABBBBCCCCDDDD unlock-word-2 registry-user-3 literal-stdin-secret plain-registry-pass unrelated-value';
    expect(r.redact(line)).toBe('[REDACTED] [REDACTED] [REDACTED] [REDACTED] [REDACTED] [REDACTED] unrelated-value');
  });

  it('dist/config.yaml content: secret settings and secret-named env entries are replaced, references kept', () => {
    const out = redactConfig({
      env: ['GH_PAT=ghpat-literal', 'NPM_AUTH=npm-literal', 'KEYBOARD=us', 'PATH_PREFIX=/opt'],
      before: { hooks: [{ cmd: 'echo', env: ['MY_DEPLOY_PASS=deploy-literal', 'COSIGN_PWD=pwd-literal'] }] },
      signs: [{ stdin: '$COSIGN_PWD', password: 'env://X', key: 'cosign.key' }],
      registries: [{ username: 'someone', password: '{{ .Env.REG_PASS }}' }],
    });
    expect(out).toEqual({
      env: ['GH_PAT=[REDACTED]', 'NPM_AUTH=[REDACTED]', 'KEYBOARD=us', 'PATH_PREFIX=/opt'],
      before: { hooks: [{ cmd: 'echo', env: ['MY_DEPLOY_PASS=[REDACTED]', 'COSIGN_PWD=[REDACTED]'] }] },
      signs: [{ stdin: '$COSIGN_PWD', password: 'env://X', key: 'cosign.key' }],
      registries: [{ username: '[REDACTED]', password: '{{ .Env.REG_PASS }}' }],
    });
  });
});
