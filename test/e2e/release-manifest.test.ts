import { createHash, createPublicKey } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pae } from '../../src/sigstore/dsse.js';
import { verifySigstoreBundle } from '../../src/sigstore/verify-bundle.js';
import { FakeGitHub } from '../github/fake-github.js';
import { hasStackTrace, runCli } from '../helpers/cli.js';
import { TempRepo } from '../helpers/repo.js';
import { startSigstoreServices, type SigstoreServices } from '../helpers/sigstore-services.js';

/**
 * The signed release manifest and the check before publishing, end to end:
 * `relsign release` on a tagged repository against the stateful fake GitHub
 * (and a local Rekor for key signatures). One tag per scenario.
 */
let fake: FakeGitHub;
let services: SigstoreServices;
let repo: TempRepo;
let keyDir: string;
let otherDir: string;
let gnupgHome: string;
const PASSWORD = 'manifest-key-pass-7731';

const signs = (extra = '') => `signs:
  - id: cosign
    signer: builtin
    key: env://COSIGN_PRIVATE_KEY
    artifacts: all
    signature: "$<artifact>.sig"
${extra}`;

function config(body: string): string {
  return `version: 2
project_name: widget
source:
  enabled: true
checksum:
  name_template: "{{ .ProjectName }}_{{ .Version }}_checksums.txt"
${body}
release:
  github: { owner: acme, name: widget }
github_urls:
  api: ${fake.apiUrl}
`;
}

beforeAll(async () => {
  services = await startSigstoreServices();
  fake = await new FakeGitHub({ owner: 'acme', repo: 'widget' }).start();
  keyDir = await mkdtemp(join(tmpdir(), 'relsign-manifest-key-'));
  otherDir = await mkdtemp(join(tmpdir(), 'relsign-manifest-other-'));
  for (const dir of [keyDir, otherDir]) {
    const gen = await runCli(['generate-key-pair'], { cwd: dir, env: { COSIGN_PASSWORD: PASSWORD } });
    expect(gen.code, gen.stderr).toBe(0);
  }
  gnupgHome = await mkdtemp(join(tmpdir(), 'relsign-manifest-gpg-'));
  await execa('gpg', ['--batch', '--pinentry-mode', 'loopback', '--passphrase', '', '--quick-gen-key', 'relsign test <test@example.com>', 'ed25519', 'sign', 'never'], {
    env: { GNUPGHOME: gnupgHome },
  });
  repo = await TempRepo.create();
  // The maintainers publish cosign.pub in the repository; other.pub is some other key.
  await repo.write({
    'cosign.pub': await readFile(join(keyDir, 'cosign.pub'), 'utf8'),
    'other.pub': await readFile(join(otherDir, 'cosign.pub'), 'utf8'),
    'src/main.txt': 'the program\n',
    '.gitignore': 'dist/\n',
  });
  await repo.write({
    'key.yaml': config(signs('    public_key: cosign.pub\n')),
    // A release signed with a key other than the published one: the check must stop it.
    'wrong-key.yaml': config(signs('    public_key: other.pub\n')),
    'no-verify.yaml': config(`${signs('    public_key: other.pub\n')}`).replace('release:\n', 'release:\n  verify: false\n'),
    'gpg.yaml': config(`signs:
  - id: gpg
    cmd: gpg
    artifacts: checksum
    signature: "\${artifact}.sig"
    args: ["--batch", "--yes", "--output", "\${signature}", "--detach-sig", "\${artifact}"]
`),
    'unsigned.yaml': config(''),
    'missing-key.yaml': config(signs('    public_key: keys/missing.pub\n')),
    'keyless-key.yaml': config(`signs:
  - signer: keyless
    artifacts: checksum
    public_key: cosign.pub
`),
  });
  await repo.commit('feat: first');
}, 120_000);

afterAll(async () => {
  await services?.stop();
  await fake?.close();
  await repo?.remove();
  await execa('gpgconf', ['--kill', 'all'], { env: { GNUPGHOME: gnupgHome }, reject: false });
  for (const d of [keyDir, otherDir, gnupgHome]) if (d) await rm(d, { recursive: true, force: true });
});

const env = async () => ({
  GITHUB_TOKEN: fake.token,
  GITHUB_REPOSITORY: undefined,
  COSIGN_PRIVATE_KEY: await readFile(join(keyDir, 'cosign.key'), 'utf8'),
  COSIGN_PASSWORD: PASSWORD,
  RELSIGN_REKOR_URL: services.rekorURL,
  GNUPGHOME: gnupgHome,
});

async function release(configFile: string) {
  return runCli(['release', '--clean', '--config', configFile], { cwd: repo.dir, env: await env() });
}

async function nextTag(tag: string): Promise<void> {
  await repo.commit(`fix: for ${tag}`, { 'src/main.txt': `the program, ${tag}\n` });
  await repo.tag(tag);
}

const releaseOf = (tag: string) => fake.releases.find((r) => r.tag_name === tag);
const dist = (name: string) => join(repo.dir, 'dist', name);

interface Manifest {
  _type: string;
  subject: Array<{ name: string; digest: { sha256: string } }>;
  predicateType: string;
  predicate: {
    project: string;
    repository: string;
    tag: string;
    version: string;
    commit: string;
    assets: Array<{ name: string; size: number; sha256: string; type: string; signatures: string[] }>;
    images: unknown[];
    signer?: Record<string, string>;
  };
}

describe('the signed release manifest', () => {
  it('lists every uploaded asset with the size and sha256 GitHub holds; its DSSE bundle verifies (openssl over the PAE, relsign with the Rekor entry)', async () => {
    await nextTag('v1.0.0');
    const r = await release('key.yaml');
    expect(r.code, r.stderr).toBe(0);
    const rel = releaseOf('v1.0.0')!;
    expect(rel.draft).toBe(false);
    const name = 'widget_1.0.0_manifest.json';
    const names = rel.assets.map((a) => a.name).sort();
    expect(names).toEqual(
      ['widget-1.0.0.tar.gz', 'widget_1.0.0_checksums.txt']
        .flatMap((n) => [n, `${n}.sig`])
        .concat([name, `${name}.sigstore.json`])
        .sort(),
    );

    const bytes = await readFile(dist(name));
    const text = bytes.toString('utf8');
    expect(text.endsWith('}\n')).toBe(true);
    const m = JSON.parse(text) as Manifest;
    // Exactly the contract's layout: keys in order, 2-space indent.
    expect(text).toBe(`${JSON.stringify(m, null, 2)}\n`);
    expect(Object.keys(m)).toEqual(['_type', 'subject', 'predicateType', 'predicate']);
    expect(Object.keys(m.predicate)).toEqual(['project', 'repository', 'tag', 'version', 'commit', 'assets', 'images', 'signer']);
    expect(m._type).toBe('https://in-toto.io/Statement/v1');
    expect(m.predicateType).toBe('https://relsign.dev/release-manifest/v1');
    expect(m.predicate).toMatchObject({
      project: 'widget',
      repository: 'acme/widget',
      tag: 'v1.0.0',
      version: '1.0.0',
      commit: await repo.git('rev-parse', 'HEAD'),
      images: [],
    });
    // Every asset except the manifest and its bundle, sorted by name, with what GitHub computed from the uploaded bytes.
    const listed = rel.assets.filter((a) => a.name !== name && a.name !== `${name}.sigstore.json`);
    expect(m.subject.map((s) => s.name)).toEqual(listed.map((a) => a.name).sort());
    for (const a of listed) {
      const entry = m.predicate.assets.find((x) => x.name === a.name)!;
      expect(entry.size).toBe(a.size);
      expect(`sha256:${entry.sha256}`).toBe(a.digest);
      expect(m.subject.find((s) => s.name === a.name)!.digest.sha256).toBe(entry.sha256);
    }
    expect(m.predicate.assets.map((a) => [a.name, a.type, a.signatures])).toEqual([
      ['widget-1.0.0.tar.gz', 'source', ['widget-1.0.0.tar.gz.sig']],
      ['widget-1.0.0.tar.gz.sig', 'signature', []],
      ['widget_1.0.0_checksums.txt', 'checksum', ['widget_1.0.0_checksums.txt.sig']],
      ['widget_1.0.0_checksums.txt.sig', 'signature', []],
    ]);
    const pubPem = await readFile(join(keyDir, 'cosign.pub'), 'utf8');
    const der = createPublicKey(pubPem).export({ type: 'spki', format: 'der' });
    expect(m.predicate.signer).toEqual({ kind: 'key', publicKeySha256: createHash('sha256').update(der).digest('hex') });

    // The bundle: DSSE over the manifest's exact bytes, as cosign attest-blob --new-bundle-format writes it.
    const bundleText = await readFile(dist(`${name}.sigstore.json`), 'utf8');
    const bundle = JSON.parse(bundleText);
    expect(bundle.mediaType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
    expect(bundle.dsseEnvelope.payloadType).toBe('application/vnd.in-toto+json');
    expect(Buffer.from(bundle.dsseEnvelope.payload, 'base64').equals(bytes)).toBe(true);
    expect(bundle.verificationMaterial.publicKey.hint).toBe(createHash('sha256').update(der).digest('base64'));
    expect(bundle.verificationMaterial.tlogEntries[0].kindVersion.kind).toBe('dsse');

    // openssl, knowing nothing of relsign: the signature is over DSSE's PAE.
    const work = await mkdtemp(join(tmpdir(), 'relsign-manifest-openssl-'));
    try {
      await writeFile(join(work, 'pae.bin'), pae('application/vnd.in-toto+json', bytes));
      await writeFile(join(work, 'sig.der'), Buffer.from(bundle.dsseEnvelope.signatures[0].sig, 'base64'));
      const ok = await execa('openssl', ['dgst', '-sha256', '-verify', join(keyDir, 'cosign.pub'), '-signature', 'sig.der', 'pae.bin'], { cwd: work, reject: false });
      expect(ok.stdout.trim()).toBe('Verified OK');
      const other = await execa('openssl', ['dgst', '-sha256', '-verify', join(otherDir, 'cosign.pub'), '-signature', 'sig.der', 'pae.bin'], { cwd: work, reject: false });
      expect(other.exitCode).not.toBe(0);
    } finally {
      await rm(work, { recursive: true, force: true });
    }

    // relsign's verifier, as cosign verify-blob-attestation: key, Rekor entry against the trusted root,
    // and the asset must be a subject of the statement.
    const key = { key: createPublicKey(pubPem), source: 'cosign.pub' };
    const ok = await verifySigstoreBundle({ bundle, bundleSource: 'bundle', artifact: dist('widget_1.0.0_checksums.txt'), trustedRoot: services.trustedRoot, key });
    expect(ok.tlogVerified).toBe(true);
    await expect(
      verifySigstoreBundle({ bundle, bundleSource: 'bundle', artifact: Buffer.from('not in the release'), trustedRoot: services.trustedRoot, key }),
    ).rejects.toThrow(/is not a subject/);
    expect(r.stderr).toMatch(/verified 3 signature\(s\) before publishing/);

    // A re-run: the same manifest bytes; the published bundle is kept (a new one differs in its Rekor entry).
    const uploads = fake.uploads().length;
    const again = await release('key.yaml');
    expect(again.code, again.stderr).toBe(0);
    expect(fake.uploads().length).toBe(uploads);
    expect((await readFile(dist(name))).equals(bytes)).toBe(true);
    expect(releaseOf('v1.0.0')!.assets).toHaveLength(6);
  }, 120_000);

  it('a signature that does not verify with the configured public key leaves the release a draft; release.verify: false publishes it', async () => {
    await nextTag('v1.1.0');
    const patches = () => fake.requests.filter((q) => q.method === 'PATCH').length;
    const before = patches();
    const r = await release('wrong-key.yaml');
    expect(r.code).toBe(1);
    expect(hasStackTrace(r.stderr)).toBe(false);
    const error = r.stderr.split('\n').find((l) => l.startsWith('relsign: '))!;
    expect(error).toMatch(/^relsign: release\.verify: signature check failed for widget[-_]1\.1\.0[._a-z]*\.(sig|sigstore\.json): .*other\.pub.*; not publishing; release v1\.1\.0 is left as a draft/);
    expect(releaseOf('v1.1.0')!.draft).toBe(true);
    // Nothing asked GitHub to publish (or otherwise change) the release.
    expect(patches()).toBe(before);
    expect(releaseOf('v1.1.0')!.assets).toHaveLength(6);

    const uploads = fake.uploads().length;
    const off = await release('no-verify.yaml');
    expect(off.code, off.stderr).toBe(0);
    expect(off.stderr).not.toMatch(/verified \d+ signature/);
    expect(releaseOf('v1.1.0')!.draft).toBe(false);
    // The same commit: identical files are kept on the resumed draft; only the manifest's bundle (its new
    // Rekor entry) is replaced, as any relsign-made asset that differs on a draft.
    expect(fake.uploads().slice(uploads).map((u) => u.asset)).toEqual(['widget_1.1.0_manifest.json.sigstore.json']);
  }, 120_000);

  it('with only an external signer (gpg), the manifest is signed like any artifact; no bundle, and relsign says what it could not verify', async () => {
    await nextTag('v1.2.0');
    const r = await release('gpg.yaml');
    expect(r.code, r.stderr).toBe(0);
    const names = releaseOf('v1.2.0')!.assets.map((a) => a.name).sort();
    expect(names).toEqual(['widget-1.2.0.tar.gz', 'widget_1.2.0_checksums.txt', 'widget_1.2.0_checksums.txt.sig', 'widget_1.2.0_manifest.json', 'widget_1.2.0_manifest.json.sig']);
    const v = await execa('gpg', ['--verify', dist('widget_1.2.0_manifest.json.sig'), dist('widget_1.2.0_manifest.json')], { env: { GNUPGHOME: gnupgHome }, reject: false });
    expect(v.exitCode, v.stderr).toBe(0);
    const m = JSON.parse(await readFile(dist('widget_1.2.0_manifest.json'), 'utf8')) as Manifest;
    expect(m.predicate.signer).toBeUndefined();
    expect(m.subject.map((s) => s.name)).toEqual(['widget-1.2.0.tar.gz', 'widget_1.2.0_checksums.txt', 'widget_1.2.0_checksums.txt.sig']);
    expect(r.stderr).toMatch(/2 signature\(s\) made by external signers are not verified by relsign: signs\[0\] \(gpg\)/);
  }, 120_000);

  it('with no signs entry the manifest is uploaded unsigned, with one warning', async () => {
    await nextTag('v1.3.0');
    const r = await release('unsigned.yaml');
    expect(r.code, r.stderr).toBe(0);
    expect(releaseOf('v1.3.0')!.assets.map((a) => a.name).sort()).toEqual(['widget-1.3.0.tar.gz', 'widget_1.3.0_checksums.txt', 'widget_1.3.0_manifest.json']);
    expect(r.stderr.match(/widget_1\.3\.0_manifest\.json: not signed \(no signs entry\)/g)).toHaveLength(1);
  }, 120_000);

  it('a public_key that cannot be read fails the preflight, before anything is built or created; keyless has none', async () => {
    const releases = fake.releases.length;
    const r = await release('missing-key.yaml');
    expect(r.code).toBe(1);
    expect(hasStackTrace(r.stderr)).toBe(false);
    expect(r.stderr).toMatch(/signs\[0\]\.public_key: .*keys\/missing\.pub/);
    expect(r.stderr).not.toMatch(/building|uploaded/);
    expect(fake.releases.length).toBe(releases);
    const check = await runCli(['check', '--config', 'keyless-key.yaml'], { cwd: repo.dir });
    expect(check.code).toBe(1);
    expect(check.stdout + check.stderr).toMatch(/signs\[0\]\.public_key.*has no effect with signer: keyless/);
  }, 120_000);
});
