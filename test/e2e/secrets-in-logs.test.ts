import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasStackTrace, runCli } from '../helpers/cli.js';
import { TempRepo } from '../helpers/repo.js';

/**
 * Secrets stay out of what a release prints and writes, whatever the
 * variables holding them are called: a real snapshot release through the
 * CLI, with before hooks and a `cmd` signer that see every secret.
 */
const SECRETS = {
  GH_PAT: 'ghpat-value-3f9a1c',
  NPM_AUTH: 'npm-auth-value-77d2',
  COSIGN_PWD: 'cosign-pwd-value-5e8b',
  MY_DEPLOY_PASS: 'deploy-pass-value-1a2b',
  // Not secret by name: secret because the signer's stdin reads it.
  SIGNING_MATERIAL: 'signing-material-9c0d',
};
const LITERALS = ['npm-config-literal-4455', 'hook-env-literal-6677', 'gh-pat-literal-8899', 'npm-auth-literal-1122', 'cosign-pwd-literal-3344', 'deploy-pass-literal-5566'];

const CONFIG = [
  'project_name: demo',
  'env:',
  `  - NPM_AUTH_COPY=${LITERALS[0]}`,
  'before:',
  '  hooks:',
  '    - "echo deploying with {{ .Env.MY_DEPLOY_PASS }} {{ .Env.NPM_AUTH }} {{ .Env.GH_PAT }} {{ .Env.SIGNING_MATERIAL }} {{ .Env.NPM_AUTH_COPY }} home={{ .Env.HOME }}"',
  '    - cmd: "echo hook {{ .Env.OTHER_PASS }} {{ .Env.GH_PAT }} {{ .Env.NPM_AUTH }} {{ .Env.COSIGN_PWD }} {{ .Env.MY_DEPLOY_PASS }}"',
  `      env: ["OTHER_PASS=${LITERALS[1]}", "GH_PAT=${LITERALS[2]}", "NPM_AUTH=${LITERALS[3]}", "COSIGN_PWD=${LITERALS[4]}", "MY_DEPLOY_PASS=${LITERALS[5]}"]`,
  'source:',
  '  enabled: true',
  'signs:',
  '  - cmd: sh',
  '    stdin: "{{ .Env.SIGNING_MATERIAL }}"',
  '    args: ["-c", "cat > /dev/null; printf sig > ${signature}", "--token={{ .Env.GH_PAT }}", "--pwd=$COSIGN_PWD", "--auth=${NPM_AUTH}"]',
  '    artifacts: checksum',
  '',
].join('\n');

// argv form: the password is one argument, whatever quotes it holds.
const JSON_CONFIG = [
  'project_name: demo',
  'before:',
  '  hooks:',
  '    - cmd: ["echo", "deploying with", "{{ .Env.COSIGN_PASSWORD }}", "and {{ .Env.COSIGN_PASSWORD }}"]',
  '',
].join('\n');

let repo: TempRepo;
beforeAll(async () => {
  repo = await TempRepo.create({ 'relsign.config.yaml': CONFIG, 'json.yaml': JSON_CONFIG, 'README.md': '# demo\n' });
  await repo.commit('initial');
});
afterAll(async () => {
  await repo?.remove();
});

async function distText(): Promise<string> {
  const dist = join(repo.dir, 'dist');
  const files = (await readdir(dist)).filter((f) => /\.(json|yaml|md|txt)$/.test(f));
  return (await Promise.all(files.map((f) => readFile(join(dist, f), 'utf8')))).join('\n');
}

describe('secrets in --verbose hook and signer lines and in dist/config.yaml', () => {
  it('GH_PAT, NPM_AUTH, COSIGN_PWD, MY_DEPLOY_PASS and a value a signer setting reads are redacted everywhere', async () => {
    const r = await runCli(['release', '--snapshot', '--clean', '--verbose'], { cwd: repo.dir, env: { ...SECRETS } });
    expect(r.code, r.stderr).toBe(0);
    const printed = r.stdout + r.stderr;
    // the lines are there (so the check below looks at real output) …
    expect(printed).toMatch(/running echo deploying with \[REDACTED\] \[REDACTED\] \[REDACTED\] \[REDACTED\] \[REDACTED\] home=\//);
    expect(printed).toMatch(/signs\[0\]: sh -c .* --token=\[REDACTED\] --pwd=\[REDACTED\] --auth=\[REDACTED\]/);
    // … and no secret is in them, nor in any file written to dist
    const everything = printed + (await distText());
    for (const v of [...Object.values(SECRETS), ...LITERALS]) expect(everything).not.toContain(v);
    const config = await readFile(join(repo.dir, 'dist/config.yaml'), 'utf8');
    expect(config).toContain('NPM_AUTH_COPY=[REDACTED]');
    for (const name of ['OTHER_PASS', 'GH_PAT', 'NPM_AUTH', 'COSIGN_PWD', 'MY_DEPLOY_PASS']) expect(config).toContain(`${name}=[REDACTED]`);
    expect(printed).toContain('hook [REDACTED] [REDACTED] [REDACTED] [REDACTED] [REDACTED]');
    expect(config).toContain('stdin: "{{ .Env.SIGNING_MATERIAL }}"'); // a reference names a secret without being one
  });
});

describe('secrets under --json', () => {
  it('a COSIGN_PASSWORD holding " and \\ is redacted in hook command lines, raw and JSON-escaped', async () => {
    const password = 'pw"with\\quote';
    const r = await runCli(['release', '--snapshot', '--clean', '--json', '--verbose', '--config', 'json.yaml'], {
      cwd: repo.dir,
      env: { COSIGN_PASSWORD: password },
    });
    expect(r.code, r.stderr).toBe(0);
    const printed = r.stdout + r.stderr;
    expect(printed).not.toContain(password);
    expect(printed).not.toContain(JSON.stringify(password).slice(1, -1));
    expect(printed).not.toContain('with\\');
    const lines = r.stderr.trim().split('\n').map((l) => JSON.parse(l) as { msg: string });
    const running = lines.find((l) => l.msg.includes('running echo deploying'));
    expect(running?.msg).toBe('  running echo deploying with [REDACTED] and [REDACTED]');
    expect(lines.some((l) => l.msg.trim() === 'deploying with [REDACTED] and [REDACTED]')).toBe(true); // the hook's output
    expect(hasStackTrace(printed)).toBe(false);
  });
});
