import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeGitHub } from '../github/fake-github.js';
import { hasStackTrace, runCli } from '../helpers/cli.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { TempRepo } from '../helpers/repo.js';

/**
 * Preflight: each problem a release would otherwise hit only after building
 * is injected into an otherwise good release against the fake GitHub. The
 * release must stop before the first build (its build command touches a
 * marker file) with one line naming the problem; several are all reported.
 */
const PASSWORD = 'preflight-pass-9130';
let fake: FakeGitHub;
let keyDir: string;
const repos: TempRepo[] = [];

beforeAll(async () => {
  fake = await new FakeGitHub({ owner: 'acme', repo: 'hello' }).start();
  keyDir = await mkdtemp(join(tmpdir(), 'relsign-preflight-key-'));
  const gen = await runCli(['generate-key-pair'], { cwd: keyDir, env: { COSIGN_PASSWORD: PASSWORD } });
  expect(gen.code, gen.stderr).toBe(0);
});
afterAll(async () => {
  await fake?.close();
  if (keyDir) await rm(keyDir, { recursive: true, force: true });
});
afterEach(async () => {
  await Promise.all(repos.splice(0).map((r) => r.remove()));
});

interface Variant {
  signs?: string;
  builds?: string;
  apiUrl?: string;
  /** Appended to the config (images:, registries:). */
  extra?: string;
}

function config(v: Variant, apiUrl: string): string {
  return `version: 2
project_name: hello
builds:
${
  v.builds ??
  `  - id: hello
    cmd: [node, build.mjs]
    targets: [linux_amd64]
    binary: hello`
}
archives:
  - id: hello
    formats: [tar.gz]
${
  v.signs ??
  `signs:
  - signer: builtin
    key: env://COSIGN_PRIVATE_KEY
    artifacts: all
    tlog_upload: false  # offline: no transparency log here`
}
github_urls:
  api: ${v.apiUrl ?? apiUrl}
${v.extra ?? ''}`;
}

/** Writes the binary and a marker that proves a build ran. */
const BUILD = `import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
writeFileSync('build-ran', 'yes');
mkdirSync(dirname(process.env.RELSIGN_OUTPUT ?? 'dist/x/hello'), { recursive: true });
writeFileSync(process.env.RELSIGN_OUTPUT ?? 'dist/x/hello', 'binary');
`;

async function project(v: Variant): Promise<TempRepo> {
  const r = await TempRepo.create({
    'relsign.config.yaml': config(v, fake.apiUrl),
    'build.mjs': BUILD,
    '.gitignore': 'dist/\nbuild-ran\n',
  });
  repos.push(r);
  await r.git('remote', 'add', 'origin', 'https://github.com/acme/hello.git');
  await r.commit('feat: first');
  await r.tag('v1.0.0');
  return r;
}

async function goodEnv(): Promise<Record<string, string | undefined>> {
  return {
    GITHUB_TOKEN: fake.token,
    GITHUB_REPOSITORY: undefined,
    COSIGN_PRIVATE_KEY: await readFile(join(keyDir, 'cosign.key'), 'utf8'),
    COSIGN_PASSWORD: PASSWORD,
  };
}

async function nothingBuilt(r: TempRepo): Promise<void> {
  const files = await readdir(r.dir);
  expect(files).not.toContain('build-ran');
  const dist = await readdir(join(r.dir, 'dist')).catch(() => [] as string[]);
  expect(dist.filter((f) => /\.(tar\.gz|zip|sig)$/.test(f))).toEqual([]);
}

const CASES: Array<{ name: string; variant?: Variant; env?: Record<string, string | undefined>; args?: string[]; expect: RegExp }> = [
  { name: 'GITHUB_TOKEN unset', env: { GITHUB_TOKEN: undefined }, expect: /GITHUB_TOKEN is not set/ },
  { name: 'a token GitHub rejects', env: { GITHUB_TOKEN: 'ghp_notTheRightToken000' }, expect: /GITHUB_TOKEN: rejected by GitHub \(401/ },
  {
    name: 'a repository that does not exist',
    variant: { signs: 'signs: []\nrelease:\n  github: { owner: acme, name: nope }' },
    expect: /GitHub repository acme\/nope: repository not found or token lacks access/,
  },
  { name: 'a wrong COSIGN_PASSWORD', env: { COSIGN_PASSWORD: 'not-the-password' }, expect: /signs\[0\].*(password|decrypt)/i },
  { name: 'COSIGN_PRIVATE_KEY unset', env: { COSIGN_PRIVATE_KEY: undefined }, expect: /signs\[0\]\.key: env:\/\/COSIGN_PRIVATE_KEY: environment variable COSIGN_PRIVATE_KEY is not set/ },
  { name: 'a missing --release-notes file', args: ['--release-notes', 'NOTES.md'], expect: /--release-notes NOTES\.md: no such file/ },
  {
    name: 'a build command that is not on PATH',
    variant: { builds: '  - id: hello\n    cmd: [no-such-compiler-xyz, build]\n    targets: [linux_amd64]\n    binary: hello' },
    expect: /builds\[0\]\.cmd: command not found: no-such-compiler-xyz/,
  },
  {
    name: 'a pasted cosign entry with an unimplemented flag and no cosign on PATH',
    variant: {
      signs: `signs:
  - cmd: cosign
    stdin: "{{ .Env.COSIGN_PASSWORD }}"
    args: ["sign-blob", "--key=env://COSIGN_PRIVATE_KEY", "--fulcio-url=https://fulcio.example", "--output-signature=\${signature}", "\${artifact}", "--yes"]
    artifacts: all`,
    },
    env: { PATH: `${join(process.execPath, '..')}:/usr/bin:/bin` },
    expect: /signs\[0\]\.args: cosign flag --fulcio-url not implemented by relsign's built-in cosign/,
  },
];

describe('preflight stops a release before building', () => {
  it('the good release passes preflight and builds (control)', async () => {
    const r = await project({});
    const res = await runCli(['release', '--skip', 'publish'], { cwd: r.dir, env: await goodEnv() });
    expect(res.code, res.stderr).toBe(0);
    expect(await readdir(r.dir)).toContain('build-ran');
  }, 60_000);

  it.each(CASES)('$name', async (c) => {
    const r = await project(c.variant ?? {});
    const res = await runCli(['release', ...(c.args ?? [])], { cwd: r.dir, env: { ...(await goodEnv()), ...c.env } });
    expect(res.code).toBe(1);
    const errors = res.stderr.split('\n').filter((l) => l.startsWith('relsign: '));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(c.expect);
    expect(hasStackTrace(res.stderr)).toBe(false);
    expect(res.stderr).not.toContain(PASSWORD);
    expect(res.stderr).not.toContain(fake.token);
    await nothingBuilt(r);
  }, 60_000);

  it('reports several problems at once, one line each', async () => {
    const r = await project({ builds: '  - id: hello\n    cmd: [no-such-compiler-xyz]\n    targets: [linux_amd64]\n    binary: hello' });
    const res = await runCli(['release', '--release-notes', 'NOTES.md'], {
      cwd: r.dir,
      env: { ...(await goodEnv()), GITHUB_TOKEN: undefined, COSIGN_PASSWORD: 'wrong' },
    });
    expect(res.code).toBe(1);
    const errors = res.stderr.split('\n').filter((l) => l.startsWith('relsign: '));
    expect(errors.length).toBe(4);
    expect(errors.join('\n')).toMatch(/GITHUB_TOKEN is not set/);
    expect(errors.join('\n')).toMatch(/--release-notes NOTES\.md: no such file/);
    expect(errors.join('\n')).toMatch(/builds\[0\]\.cmd: command not found: no-such-compiler-xyz/);
    expect(errors.join('\n')).toMatch(/signs\[0\]/);
    await nothingBuilt(r);
  }, 60_000);

  it('--snapshot with no signing key: preflight leaves dist alone and the snapshot signs with a throwaway key', async () => {
    const r = await project({});
    const res = await runCli(['release', '--snapshot'], { cwd: r.dir, env: { ...(await goodEnv()), GITHUB_TOKEN: undefined, COSIGN_PRIVATE_KEY: undefined } });
    expect(res.code, res.stderr).toBe(0);
    expect(await readdir(join(r.dir, 'dist'))).toContain('relsign-ephemeral.pub');
  }, 60_000);

  it('--snapshot skips the publishing checks', async () => {
    const r = await project({});
    const res = await runCli(['release', '--snapshot'], { cwd: r.dir, env: { ...(await goodEnv()), GITHUB_TOKEN: undefined } });
    expect(res.code, res.stderr).toBe(0);
  }, 60_000);

  it('relsign check --preflight runs the same checks without building', async () => {
    const r = await project({});
    const bad = await runCli(['check', '--preflight'], { cwd: r.dir, env: { ...(await goodEnv()), GITHUB_TOKEN: undefined } });
    expect(bad.code).toBe(1);
    expect(bad.stderr.split('\n').filter((l) => l.startsWith('relsign: '))).toEqual([
      'relsign: preflight: GITHUB_TOKEN is not set; publishing to GitHub needs a token that can write releases (or use --snapshot / --skip publish)',
    ]);
    const good = await runCli(['check', '--preflight'], { cwd: r.dir, env: await goodEnv() });
    expect(good.code, good.stderr).toBe(0);
    expect(good.stderr).toMatch(/preflight passed/);
    await nothingBuilt(r);
  }, 60_000);
});

describe('preflight: every image repository accepts a push with the credentials the run has', () => {
  let basic: TestRegistry;
  let token: TestRegistry;
  beforeAll(async () => {
    [basic, token] = await Promise.all([
      startRegistry({ auth: 'htpasswd', users: { ci: 'registry-pass-5521' } }),
      startRegistry({ auth: 'token', users: { ci: 'registry-pass-5521' }, anonymousPull: true }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([basic?.stop(), token?.stop()]);
  });

  const image = (host: string, login = '') => `images:
  - id: hello
    ids: [hello]
    repository: ${host}/acme/hello
    tags: ["{{ .Version }}"]
    platforms: [linux/amd64]
${login ? `registries:\n  - host: ${host}\n    username: ci\n    password: "{{ .Env.REGISTRY_PASSWORD }}"\n` : ''}`;

  async function preflight(extra: string, env: Record<string, string | undefined> = {}, args: string[] = []) {
    const r = await project({ extra });
    // No Docker config of the machine's: only what the config gives.
    const res = await runCli(['check', '--preflight', ...args], { cwd: r.dir, env: { ...(await goodEnv()), DOCKER_CONFIG: r.dir, ...env } });
    await nothingBuilt(r);
    return res;
  }

  it('the right password passes (Basic and Bearer token registries); the probe leaves no blob and no tag', async () => {
    for (const reg of [basic, token]) {
      const res = await preflight(image(reg.host, 'login'), { REGISTRY_PASSWORD: 'registry-pass-5521' });
      expect(res.code, res.stderr).toBe(0);
      expect(res.stderr).not.toContain('registry-pass-5521');
    }
    const tags = await fetch(`${basic.url}/v2/acme/hello/tags/list`, { headers: { authorization: `Basic ${Buffer.from('ci:registry-pass-5521').toString('base64')}` } });
    expect(tags.status).toBe(404); // the repository was never created
  }, 60_000);

  it('a wrong password, no credentials at all, and a token service that grants anonymous users only pull each fail in preflight, naming the image', async () => {
    const wrong = await preflight(image(basic.host, 'login'), { REGISTRY_PASSWORD: 'not-it-0000' });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(new RegExp(`relsign: preflight: images\\[0\\]: registry ${basic.host}: authentication failed \\(401\\) for user ci`));
    expect(wrong.stderr).not.toContain('not-it-0000');
    const none = await preflight(image(basic.host));
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/preflight: images\[0\]: registry 127\.0\.0\.1:\d+: authentication failed \(401\) for anonymous \(no credentials found\)/);
    const pullOnly = await preflight(image(token.host));
    expect(pullOnly.code).toBe(1);
    expect(pullOnly.stderr).toMatch(/preflight: images\[0\]: registry 127\.0\.0\.1:\d+: authentication failed \(401\) for anonymous/);
    for (const r of [wrong, none, pullOnly]) expect(hasStackTrace(r.stderr)).toBe(false);
  }, 60_000);

  it('a registry that is down is a problem reported with the others; --skip docker, --snapshot and push: false do not ask', async () => {
    const down = '127.0.0.1:9';
    const res = await preflight(image(down), { GITHUB_TOKEN: undefined });
    expect(res.code).toBe(1);
    const errors = res.stderr.split('\n').filter((l) => l.startsWith('relsign: '));
    expect(errors.join('\n')).toMatch(/images\[0\]: .*127\.0\.0\.1:9.*(cannot connect|ECONNREFUSED)/);
    expect(errors.join('\n')).toMatch(/GITHUB_TOKEN is not set/);
    expect((await preflight(image(down), {}, ['--skip', 'docker'])).code).toBe(0);
    // A snapshot pushes nothing, and neither does an image with push: false: no registry is asked.
    expect((await preflight(image(down), { GITHUB_TOKEN: undefined }, ['--snapshot'])).code).toBe(0);
    expect((await preflight(`${image(down).replace('    platforms:', '    push: false\n    platforms:')}`)).code).toBe(0);
  }, 60_000);
});

describe('preflight: a published immutable release for the tag', () => {
  it('that lacks an asset this run would add (the release manifest) stops the run before building; one with it passes', async () => {
    const own = await new FakeGitHub({ owner: 'acme', repo: 'hello' }).start();
    try {
      // Published by an earlier run that wrote no release manifest.
      const first = await project({ apiUrl: own.apiUrl, extra: 'release:\n  manifest: { disable: true }\n' });
      const published = await runCli(['release'], { cwd: first.dir, env: { ...(await goodEnv()), GITHUB_TOKEN: own.token } });
      expect(published.code, published.stderr).toBe(0);
      expect(own.releases[0]).toMatchObject({ tag_name: 'v1.0.0', draft: false, immutable: true });

      const again = await project({ apiUrl: own.apiUrl });
      const res = await runCli(['release'], { cwd: again.dir, env: { ...(await goodEnv()), GITHUB_TOKEN: own.token } });
      expect(res.code).toBe(1);
      const errors = res.stderr.split('\n').filter((l) => l.startsWith('relsign: '));
      expect(errors).toEqual([
        'relsign: preflight: release v1.0.0 on acme/hello is published and immutable; it has no hello_1.0.0_manifest.json, which this run would add (GitHub refuses new assets there): publish a new tag',
      ]);
      await nothingBuilt(again);

      // The same config as the published run: every name it will upload is there.
      const same = await project({ apiUrl: own.apiUrl, extra: 'release:\n  manifest: { disable: true }\n' });
      const ok = await runCli(['check', '--preflight'], { cwd: same.dir, env: { ...(await goodEnv()), GITHUB_TOKEN: own.token } });
      expect(ok.code, ok.stderr).toBe(0);
    } finally {
      await own.close();
    }
  }, 60_000);
});
