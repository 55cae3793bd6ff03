/**
 * End to end, keyless: a relsign release of the example signed with the CI
 * job's identity (mock Fulcio, Rekor and TSA on loopback; a `.sigstore.json`
 * per asset, the manifest's DSSE bundle, a referrer bundle on the image),
 * published to the fake GitHub. `relsign verify-release` passes for the
 * workflow identity and issuer, and fails for another identity with one line
 * naming the manifest.
 */
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeGitHub } from '../github/fake-github.js';
import { hasStackTrace, REPO_ROOT, runCli } from '../helpers/cli.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { TempRepo } from '../helpers/repo.js';
import { DEFAULT_IDENTITY, DEFAULT_ISSUER, startSigstoreServices, type SigstoreServices } from '../helpers/sigstore-services.js';

let fake: FakeGitHub;
let registry: TestRegistry;
let repo: TempRepo;
let s: SigstoreServices;
const MANIFEST = 'hello_1.0.0_manifest.json';

const KEYLESS = ['signs:', '  - id: keyless', '    signer: keyless', '    artifacts: all', '', 'docker_signs:', '  - signer: keyless', '', ''].join('\n');

beforeAll(async () => {
  s = await startSigstoreServices();
  fake = await new FakeGitHub({ owner: 'acme', repo: 'hello' }).start();
  registry = await startRegistry();
  repo = await TempRepo.create();
  await cp(join(REPO_ROOT, 'fixtures/example'), join(repo.dir, 'fixtures/example'), { recursive: true });
  const example = await readFile(join(REPO_ROOT, 'release.config.example.yaml'), 'utf8');
  const keyless = example.replace(/signs:[\s\S]*?\n\n/, KEYLESS);
  expect(keyless).toContain('signer: keyless');
  await writeFile(join(repo.dir, 'relsign.config.yaml'), `${keyless}\ngithub_urls:\n  api: ${fake.apiUrl}\n`);
  await writeFile(join(repo.dir, '.gitignore'), 'dist/\n');
  await repo.git('remote', 'add', 'origin', 'https://github.com/acme/hello.git');
  await repo.commit('feat: first');
  await repo.tag('v1.0.0');
  const r = await runCli(['release', '--clean'], {
    cwd: repo.dir,
    env: {
      GITHUB_TOKEN: fake.token,
      GITHUB_REPOSITORY: undefined,
      SIGSTORE_ID_TOKEN: s.makeIdToken(),
      ACTIONS_ID_TOKEN_REQUEST_URL: undefined,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: undefined,
      RELSIGN_IMAGE_REPO: `${registry.host}/hello`,
      RELSIGN_FULCIO_URL: s.fulcioURL,
      RELSIGN_REKOR_URL: s.rekorURL,
      RELSIGN_TSA_URL: s.tsaURL,
    },
  });
  expect(r.code, r.stderr).toBe(0);
}, 240_000);
afterAll(async () => {
  await s?.stop();
  await fake?.close();
  await registry?.stop();
  await repo?.remove();
});

const verify = (identity: string, issuer = DEFAULT_ISSUER) =>
  runCli(
    ['verify-release', '--certificate-identity', identity, '--certificate-oidc-issuer', issuer, '--trusted-root', s.trustedRootPath, '--github-url', fake.apiUrl, 'acme/hello@v1.0.0'],
    { env: { GITHUB_TOKEN: fake.token, GH_TOKEN: undefined } },
  );

describe('a keyless relsign release and verify-release', () => {
  it('passes for the workflow identity: manifest, every bundle and the image', async () => {
    const release = fake.releases[0]!;
    expect(release.assets.map((a) => a.name)).toContain(`${MANIFEST}.sigstore.json`);
    const r = await verify(DEFAULT_IDENTITY);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^verdict: OK: ${release.assets.length} assets and 1 image verified against the manifest ${MANIFEST.replaceAll('.', '\\.')} signed by ${DEFAULT_IDENTITY.replaceAll('.', '\\.')}$`, 'm'));
    expect(r.stdout).toMatch(/^hello_1\.0\.0_linux_amd64\.tar\.gz\s+[0-9a-f]{12}\s+ok\s+manifest, hello_1\.0\.0_linux_amd64\.tar\.gz\.sigstore\.json, checksums\s/m);
  });

  it('fails for another identity, naming the manifest first', async () => {
    const r = await verify('https://github.com/evil/fork/.github/workflows/release.yml@refs/tags/v1.0.0');
    expect(r.code).toBe(1);
    const failed = r.stdout.split('\n').filter((l) => l.startsWith('FAILED '));
    expect(failed[0]).toMatch(new RegExp(`^FAILED ${MANIFEST.replaceAll('.', '\\.')}: ${MANIFEST.replaceAll('.', '\\.')}\\.sigstore\\.json: `));
    expect(failed[0]).toContain(DEFAULT_IDENTITY);
    expect(hasStackTrace(r.stdout + r.stderr)).toBe(false);
    expect(r.stdout).toContain('note: images not checked: the manifest did not verify');
  });
});
