import { createHash } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeGitHub } from '../github/fake-github.js';
import { REPO_ROOT, runCli } from '../helpers/cli.js';
import { startSigstoreServices, type SigstoreServices } from '../helpers/sigstore-services.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { TempRepo } from '../helpers/repo.js';

/**
 * `relsign release --clean` on a tagged repository, end to end, against the
 * stateful fake GitHub: everything built is signed in-process and published
 * with its .sig; a re-run uploads nothing and succeeds.
 */
let fake: FakeGitHub;
let registry: TestRegistry;
let repo: TempRepo;
let keyDir: string;
const PASSWORD = 'e2e-key-pass-4821';

let services: SigstoreServices;
let firstManifest: Buffer;

beforeAll(async () => {
  // A real release records key signatures in Rekor (tlog_upload's default): a local one here.
  services = await startSigstoreServices();
  fake = await new FakeGitHub({ owner: 'acme', repo: 'hello' }).start();
  registry = await startRegistry();
  keyDir = await mkdtemp(join(tmpdir(), 'relsign-e2e-key-'));
  const gen = await runCli(['generate-key-pair'], { cwd: keyDir, env: { COSIGN_PASSWORD: PASSWORD } });
  expect(gen.code, gen.stderr).toBe(0);
  repo = await TempRepo.create();
  await cp(join(REPO_ROOT, 'fixtures/example'), join(repo.dir, 'fixtures/example'), { recursive: true });
  const example = await readFile(join(REPO_ROOT, 'release.config.example.yaml'), 'utf8');
  await writeFile(join(repo.dir, 'release.config.example.yaml'), `${example}\ngithub_urls:\n  api: ${fake.apiUrl}\n`);
  await writeFile(join(repo.dir, '.gitignore'), 'dist/\n');
  await repo.git('remote', 'add', 'origin', 'https://github.com/acme/hello.git');
  await repo.commit('feat: first');
  await repo.tag('v1.2.2');
  await repo.commit('fix: second');
  await repo.commit('docs: third (filtered out of the changelog)');
  await repo.tag('v1.2.3');
});
afterAll(async () => {
  await services?.stop();
  await fake?.close();
  await registry?.stop();
  await repo?.remove();
  if (keyDir) await rm(keyDir, { recursive: true, force: true });
});

const env = async () => ({
  GITHUB_TOKEN: fake.token,
  COSIGN_PRIVATE_KEY: await readFile(join(keyDir, 'cosign.key'), 'utf8'),
  COSIGN_PASSWORD: PASSWORD,
  GITHUB_REPOSITORY: undefined,
  RELSIGN_IMAGE_REPO: `${registry.host}/hello`,
  RELSIGN_REKOR_URL: services.rekorURL,
});

describe('relsign release --clean (tag v1.2.3) against a fake GitHub', () => {
  it('publishes every archive, the source, the checksums and all their signatures', async () => {
    const logged = services.requests.rekor;
    const r = await runCli(['release', '--clean', '--config', 'release.config.example.yaml'], { cwd: repo.dir, env: await env() });
    expect(r.code, r.stderr).toBe(0);
    expect(services.requests.rekor).toBeGreaterThan(logged);
    expect(r.stderr).not.toContain(PASSWORD);
    expect(r.stderr).not.toContain(fake.token);
    expect(fake.violations).toEqual([]);
    expect(fake.releases).toHaveLength(1);
    const release = fake.releases[0]!;
    expect(release).toMatchObject({ tag_name: 'v1.2.3', draft: false, prerelease: false });
    expect(release.body).toMatch(/fix: second/);
    expect(release.body).not.toMatch(/docs: third/);
    // The example's image went to the local registry; the notes name it by digest.
    expect(release.body).toMatch(new RegExp(`## Images\\n\\n\\* \`${registry.host}/hello@sha256:[0-9a-f]{64}\` \\(tags: 1\\.2\\.3; linux/amd64, linux/arm64\\)`));
    const names = release.assets.map((a) => a.name).sort();
    expect(names).toEqual(
      [
        'hello-1.2.3.tar.gz',
        'hello_1.2.3_checksums.txt',
        'hello_1.2.3_darwin_arm64.tar.gz',
        'hello_1.2.3_linux_amd64.tar.gz',
        'hello_1.2.3_linux_arm64.tar.gz',
        'hello_1.2.3_windows_amd64.zip',
      ]
        .flatMap((n) => [n, `${n}.sig`])
        .concat(['hello_1.2.3_manifest.json', 'hello_1.2.3_manifest.json.sigstore.json'])
        .sort(),
    );
    for (const a of release.assets) {
      const local = await readFile(join(repo.dir, 'dist', a.name));
      expect(a.digest).toBe(`sha256:${createHash('sha256').update(local).digest('hex')}`);
    }
    const v = await runCli(
      ['verify-blob', '--key', join(keyDir, 'cosign.pub'), '--insecure-ignore-tlog', '--signature', 'dist/hello_1.2.3_checksums.txt.sig', 'dist/hello_1.2.3_checksums.txt'],
      { cwd: repo.dir },
    );
    expect(v.code, v.stderr).toBe(0);
    expect(r.stderr).toMatch(/verified 7 signature\(s\) before publishing/);
    firstManifest = await readFile(join(repo.dir, 'dist/hello_1.2.3_manifest.json'));
  });

  it('a re-run rebuilds byte-identical files, uploads nothing and succeeds', async () => {
    const before = fake.uploads().length;
    const r = await runCli(['release', '--clean', '--config', 'release.config.example.yaml'], { cwd: repo.dir, env: await env() });
    expect(r.code, r.stderr).toBe(0);
    expect(fake.uploads().length).toBe(before);
    expect(fake.releases).toHaveLength(1);
    expect(fake.releases[0]!.assets).toHaveLength(14);
    // No timestamps in the manifest: the same commit gives the same bytes.
    expect(await readFile(join(repo.dir, 'dist/hello_1.2.3_manifest.json'))).toEqual(firstManifest);
  });
});
