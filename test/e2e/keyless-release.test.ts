/**
 * A keyless release of the example configuration (its signs section switched
 * to `signer: keyless`, plus keyless docker_signs) against a fake GitHub, the
 * local registry and @sigstore/mock's Fulcio, Rekor and TSA on loopback, with
 * a GitHub-shaped identity token. Every archive, the source and the checksum
 * file get a `.sigstore.json` bundle that @sigstore/verify accepts for the
 * workflow identity; the image gets a referrer bundle. A Rekor that never
 * answers fails the release before anything is published.
 */
import { readFile } from 'node:fs/promises';
import { cp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../src/oci/client.js';
import { listReferrers } from '../../src/oci/sign/index.js';
import { FakeGitHub } from '../github/fake-github.js';
import { hasStackTrace, REPO_ROOT, runCli } from '../helpers/cli.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { TempRepo } from '../helpers/repo.js';
import { DEFAULT_IDENTITY, DEFAULT_ISSUER, startSigstoreServices, type SigstoreServices } from '../helpers/sigstore-services.js';

let fake: FakeGitHub;
let registry: TestRegistry;
let repo: TempRepo;
let s: SigstoreServices;

const KEYLESS = [
  'signs:',
  '  - id: keyless',
  '    signer: keyless',
  '    artifacts: all',
  '    timeout: 2s',
  '  - id: checksum-cert',
  '    signer: keyless',
  '    artifacts: checksum',
  '    bundle: "${artifact}.legacy.bundle"',
  '    new_bundle_format: false',
  '    certificate: "${artifact}.pem"',
  '    timeout: 1s',
  '',
  'docker_signs:',
  '  - signer: keyless',
  '    timeout: 2s',
  '',
  '',
].join('\n');

beforeAll(async () => {
  s = await startSigstoreServices();
  fake = await new FakeGitHub({ owner: 'acme', repo: 'hello' }).start();
  registry = await startRegistry();
  repo = await TempRepo.create();
  await cp(join(REPO_ROOT, 'fixtures/example'), join(repo.dir, 'fixtures/example'), { recursive: true });
  const example = await readFile(join(REPO_ROOT, 'release.config.example.yaml'), 'utf8');
  const keyless = example.replace(/signs:[\s\S]*?\n\n/, KEYLESS);
  expect(keyless).toContain('signer: keyless');
  await writeFile(join(repo.dir, 'release.config.yaml'), `${keyless}\ngithub_urls:\n  api: ${fake.apiUrl}\n`);
  await writeFile(join(repo.dir, '.gitignore'), 'dist/\n');
  await repo.git('remote', 'add', 'origin', 'https://github.com/acme/hello.git');
  await repo.commit('feat: first');
  await repo.tag('v1.0.0');
}, 120_000);
afterAll(async () => {
  await s?.stop();
  await fake?.close();
  await registry?.stop();
  await repo?.remove();
});

const env = () => ({
  GITHUB_TOKEN: fake.token,
  GITHUB_REPOSITORY: undefined,
  SIGSTORE_ID_TOKEN: s.makeIdToken(),
  ACTIONS_ID_TOKEN_REQUEST_URL: undefined,
  ACTIONS_ID_TOKEN_REQUEST_TOKEN: undefined,
  RELSIGN_IMAGE_REPO: `${registry.host}/hello`,
  RELSIGN_FULCIO_URL: s.fulcioURL,
  RELSIGN_REKOR_URL: s.rekorURL,
  RELSIGN_TSA_URL: s.tsaURL,
});

async function verifier(): Promise<Verifier> {
  const root = TrustedRoot.fromJSON(JSON.parse(await readFile(s.trustedRootPath, 'utf8')));
  return new Verifier(toTrustMaterial(root), { tlogThreshold: 1, ctlogThreshold: 1, timestampThreshold: 1 });
}
const policy = { subjectAlternativeName: DEFAULT_IDENTITY, extensions: { issuer: DEFAULT_ISSUER } };

describe('keyless release (tag v1.0.0)', () => {
  it('a Rekor that never answers: one-line error naming Rekor and its URL; no release is created, nothing published', async () => {
    s.fault('rekor', { hang: true });
    const token = env().SIGSTORE_ID_TOKEN;
    const r = await runCli(['release', '--clean', '--config', 'release.config.yaml'], { cwd: repo.dir, env: { ...env(), SIGSTORE_ID_TOKEN: token } });
    s.fault('rekor', null);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`Rekor ${s.rekorURL}: no answer within`);
    expect(r.stderr).not.toContain(token);
    expect(hasStackTrace(r.stderr)).toBe(false);
    expect(fake.releases).toHaveLength(0);
  }, 180_000);

  it('every archive, the source and the checksum file get a .sigstore.json bundle that verifies for the workflow identity; the image gets a referrer bundle', async () => {
    const token = env().SIGSTORE_ID_TOKEN;
    const r = await runCli(['release', '--clean', '--config', 'release.config.yaml'], { cwd: repo.dir, env: { ...env(), SIGSTORE_ID_TOKEN: token } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toContain(token);
    expect(fake.violations).toEqual([]);
    expect(fake.releases).toHaveLength(1);
    const release = fake.releases[0]!;
    expect(release).toMatchObject({ tag_name: 'v1.0.0', draft: false });
    const files = [
      'hello-1.0.0.tar.gz',
      'hello_1.0.0_checksums.txt',
      'hello_1.0.0_darwin_arm64.tar.gz',
      'hello_1.0.0_linux_amd64.tar.gz',
      'hello_1.0.0_linux_arm64.tar.gz',
      'hello_1.0.0_windows_amd64.zip',
    ];
    const names = release.assets.map((a) => a.name).sort();
    expect(names).toEqual(
      [
        ...files.flatMap((n) => [n, `${n}.sigstore.json`]),
        'hello_1.0.0_checksums.txt.legacy.bundle',
        'hello_1.0.0_checksums.txt.pem',
        'hello_1.0.0_manifest.json',
        'hello_1.0.0_manifest.json.sigstore.json',
      ].sort(),
    );
    // Every signature was checked against the workflow identity before the release was published.
    expect(r.stderr).toMatch(/verified \d+ signature\(s\) before publishing/);
    const v = await verifier();
    for (const f of files) {
      const bundle = JSON.parse(await readFile(join(repo.dir, 'dist', `${f}.sigstore.json`), 'utf8'));
      expect(bundle.mediaType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
      const signer = v.verify(toSignedEntity(bundleFromJSON(bundle), await readFile(join(repo.dir, 'dist', f))), policy);
      expect(signer.identity?.subjectAlternativeName).toBe(DEFAULT_IDENTITY);
    }
    // One certificate serves the run: every bundle of the first entry carries the same leaf.
    const certs = new Set<string>();
    for (const f of files) certs.add(JSON.parse(await readFile(join(repo.dir, 'dist', `${f}.sigstore.json`), 'utf8')).verificationMaterial.certificate.rawBytes);
    expect(certs.size).toBe(1);
    // The legacy bundle carries the certificate (base64 PEM) and the Rekor SET; the .pem is the same certificate.
    const legacy = JSON.parse(await readFile(join(repo.dir, 'dist', 'hello_1.0.0_checksums.txt.legacy.bundle'), 'utf8'));
    expect(Object.keys(legacy)).toEqual(['base64Signature', 'cert', 'rekorBundle']);
    expect(Buffer.from(legacy.cert, 'base64').toString()).toBe(await readFile(join(repo.dir, 'dist', 'hello_1.0.0_checksums.txt.pem'), 'utf8'));

    // The image index: a referrer holding a DSSE bundle with the certificate and a dsse log entry.
    const m = /`(\S+\/hello)@(sha256:[0-9a-f]{64})`/.exec(release.body ?? '');
    expect(m, release.body ?? '').toBeTruthy();
    const digest = m![2]!;
    const client = new RegistryClient({ credentials: async () => undefined });
    const repoRef = { registry: registry.host, repository: 'hello' };
    const refs = await listReferrers(client, repoRef, digest, 'application/vnd.dev.sigstore.bundle.v0.3+json');
    expect(refs.manifests).toHaveLength(1);
    const manifest = (await client.getManifest(repoRef, refs.manifests[0]!.digest))!.json as { layers: Array<{ digest: string }> };
    const chunks: Buffer[] = [];
    for await (const c of await client.getBlob(repoRef, manifest.layers[0]!.digest)) chunks.push(Buffer.from(c));
    const bundle = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    expect(bundle.verificationMaterial.tlogEntries[0].kindVersion.kind).toBe('dsse');
    v.verify(toSignedEntity(bundleFromJSON(bundle)), policy);
    const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString());
    expect(statement.subject[0].digest.sha256).toBe(digest.slice(7));

    // The release manifest: a DSSE bundle with the run's certificate, a dsse Rekor entry and a
    // timestamp, verifying for the workflow identity; its payload is the manifest file's bytes.
    const manifestBytes = await readFile(join(repo.dir, 'dist', 'hello_1.0.0_manifest.json'));
    const mb = JSON.parse(await readFile(join(repo.dir, 'dist', 'hello_1.0.0_manifest.json.sigstore.json'), 'utf8'));
    expect(mb.verificationMaterial.tlogEntries[0].kindVersion.kind).toBe('dsse');
    expect(Buffer.from(mb.dsseEnvelope.payload, 'base64').equals(manifestBytes)).toBe(true);
    const signer = v.verify(toSignedEntity(bundleFromJSON(mb)), policy);
    expect(signer.identity?.subjectAlternativeName).toBe(DEFAULT_IDENTITY);
    const rm = JSON.parse(manifestBytes.toString('utf8'));
    expect(rm.predicate.signer).toEqual({ kind: 'keyless', identity: DEFAULT_IDENTITY, issuer: DEFAULT_ISSUER });
    expect(rm.predicate.repository).toBe('acme/hello');
    expect(rm.predicate.images).toEqual([{ repository: `${registry.host}/hello`, digest, tags: ['1.0.0'], platforms: ['linux/amd64', 'linux/arm64'] }]);
    expect(rm.subject.map((x: { name: string }) => x.name)).toEqual(names.filter((n) => !n.startsWith('hello_1.0.0_manifest.json')));
    // What each asset signs, by name: the bundle of an archive is listed under the archive.
    const archive = rm.predicate.assets.find((a: { name: string }) => a.name === 'hello_1.0.0_linux_amd64.tar.gz');
    expect(archive.signatures).toEqual(['hello_1.0.0_linux_amd64.tar.gz.sigstore.json']);
  }, 180_000);
});
