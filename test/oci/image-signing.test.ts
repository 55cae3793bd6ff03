/**
 * Image signatures against a real registry (Debian's docker-registry 2.8, which
 * has no referrers API, so the referrers layout goes through the fallback tag),
 * through the compiled CLI (`relsign sign` / `relsign verify`) and the library.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../src/oci/client.js';
import { signImage, signatureConfig, signatureManifest, type SignatureStorage } from '../../src/oci/sign/index.js';
import { EMPTY_DIGEST } from '../../src/oci/sign/referrers.js';
import { OCI_CONFIG, OCI_INDEX, OCI_LAYER_GZIP, OCI_MANIFEST, type Descriptor } from '../../src/oci/types.js';
import { generateKeyPair } from '../../src/sigstore/keys.js';
import { Signer } from '../../src/sigstore/signer.js';
import { hasStackTrace, runCli } from '../helpers/cli.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { vec } from '../sigstore/helpers.js';

const PASSWORD = 'correct horse';
let reg: TestRegistry;
let client: RegistryClient;
let work: string;
const keys: Array<{ keyFile: string; pubFile: string; signer: Signer }> = [];

const sha = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

beforeAll(async () => {
  reg = await startRegistry();
  client = new RegistryClient({ credentials: async () => undefined });
  work = await mkdtemp(join(tmpdir(), 'relsign-imgsign-'));
  for (const i of [1, 2, 3]) {
    const pems = await generateKeyPair(PASSWORD);
    const keyFile = join(work, `k${i}.key`);
    const pubFile = join(work, `k${i}.pub`);
    await writeFile(keyFile, pems.privateKeyPem);
    await writeFile(pubFile, pems.publicKeyPem);
    keys.push({ keyFile, pubFile, signer: await Signer.loadPem(pems.privateKeyPem, PASSWORD) });
  }
}, 60_000);
afterAll(async () => {
  await reg?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

/** Pushes a one-layer OCI image (distinct content per `seed`) and tags it; returns its descriptor. */
async function pushImage(repository: string, tag: string, seed: string): Promise<Descriptor> {
  const repo = { registry: reg.host, repository };
  const layer = Buffer.from(`layer ${seed}`);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha(layer)] } }));
  await client.pushBlob(repo, { digest: sha(layer), size: layer.length }, () => layer);
  await client.pushBlob(repo, { digest: sha(config), size: config.length }, () => config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, digest: sha(config), size: config.length },
      layers: [{ mediaType: OCI_LAYER_GZIP, digest: sha(layer), size: layer.length }],
    }),
  );
  const { digest } = await client.putManifest(repo, tag, manifest, OCI_MANIFEST);
  return { mediaType: OCI_MANIFEST, digest, size: manifest.length };
}

const env = { COSIGN_PASSWORD: PASSWORD };
const sign = (args: string[]) => runCli(['sign', ...args], { env, cwd: work });
const verify = (args: string[]) => runCli(['verify', '--insecure-ignore-tlog', ...args], { cwd: work });
const manifestJson = async (repository: string, ref: string) => (await client.getManifest({ registry: reg.host, repository }, ref))?.json;

describe('cosign-made signatures in a registry, verified by relsign verify', () => {
  const DIR = vec('cosign-image-signatures');

  /**
   * The image manifest goes into the registry's storage directly (its config and
   * 2.9 MB layer are not in the vectors, and the registry refuses a PUT that
   * names blobs it lacks); the `.sig` manifest is pushed normally, from the
   * vector's payload and layer annotations, as cosign laid it out.
   */
  async function layOut(name: string): Promise<{ image: string; digest: string }> {
    const repository = `vectors/${name}`;
    const repo = { registry: reg.host, repository };
    const manifest = await readFile(join(DIR, name, 'manifest.json'));
    const hex = sha(manifest).slice(7);
    const v2 = join(reg.storageDir, 'docker/registry/v2');
    await mkdir(join(v2, 'blobs/sha256', hex.slice(0, 2), hex), { recursive: true });
    await writeFile(join(v2, 'blobs/sha256', hex.slice(0, 2), hex, 'data'), manifest);
    await mkdir(join(v2, 'repositories', repository, '_manifests/revisions/sha256', hex), { recursive: true });
    await writeFile(join(v2, 'repositories', repository, '_manifests/revisions/sha256', hex, 'link'), `sha256:${hex}`);

    const raw = await readFile(join(DIR, name, 'signature-1'));
    const sig = JSON.parse(raw.subarray('\0sigstore-json\n'.length).toString()) as { mimeType: string; payload: string; annotations: Record<string, string> };
    const payload = Buffer.from(sig.payload, 'base64');
    await client.pushBlob(repo, { digest: sha(payload), size: payload.length }, () => payload);
    const config = signatureConfig([sha(payload)]);
    await client.pushBlob(repo, { digest: sha(config), size: config.length }, () => config);
    const sigManifest = signatureManifest({ digest: sha(config), size: config.length }, [
      { mediaType: sig.mimeType, digest: sha(payload), size: payload.length, annotations: sig.annotations },
    ]);
    await client.putManifest(repo, `sha256-${hex}.sig`, sigManifest, OCI_MANIFEST);
    return { image: `${reg.host}/${repository}@sha256:${hex}`, digest: `sha256:${hex}` };
  }

  it('dir-img-cosign-valid and -valid-with-tag verify with cosign.pub; the output names the digest and prints the payloads', async () => {
    for (const name of ['dir-img-cosign-valid', 'dir-img-cosign-valid-with-tag']) {
      const { image, digest } = await layOut(name);
      const r = await verify(['--key', join(DIR, 'cosign.pub'), image]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain(`Verification for ${reg.host}/vectors/${name}@${digest} --`);
      expect(r.stderr).toContain('  - The signatures were verified against the specified public key');
      expect(r.stdout.startsWith('\n[{"critical":{"identity":{"docker-reference":"192.168.64.2:5000/')).toBe(true);
      const out = JSON.parse(r.stdout);
      expect(out).toHaveLength(1);
      expect(out[0].critical.image['docker-manifest-digest']).toBe(digest);
      const wrong = await verify(['--key', join(DIR, 'cosign2.pub'), image]);
      expect(wrong.code).toBe(12);
      expect(wrong.stderr).toBe(`relsign: no matching signatures for ${reg.host}/vectors/${name}@${digest}: ${reg.host}/vectors/${name}:sha256-${digest.slice(7)}.sig layer 1: the signature does not verify with cosign2.pub`);
    }
  });

  it('dir-img-cosign-key-rekor-valid verifies with cosign2.pub (Rekor bundle annotation not checked)', async () => {
    const { image } = await layOut('dir-img-cosign-key-rekor-valid');
    const r = await verify(['--key', join(DIR, 'cosign2.pub'), image]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)[0].critical.identity['docker-reference']).toBe('192.168.64.2:5000/cosign-signed/key-1');
  });

  it('dir-img-cosign-modified-manifest is rejected (exit 12): the signature is for another digest', async () => {
    const { image, digest } = await layOut('dir-img-cosign-modified-manifest');
    const r = await verify(['--key', join(DIR, 'cosign.pub'), image]);
    expect(r.code).toBe(12);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`the payload signs sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00, not ${digest}`);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('a keyless (Fulcio) signature is reported as needing certificate verification (exit 12)', async () => {
    const { image } = await layOut('dir-img-cosign-fulcio-rekor-valid');
    const r = await verify(['--key', join(DIR, 'cosign.pub'), image]);
    expect(r.code).toBe(12);
    expect(r.stderr).toContain('signed with a certificate (keyless or private PKI), not with cosign.pub; relsign verifies key signatures only');
    expect(hasStackTrace(r.stderr)).toBe(false);
  });
});

describe('relsign sign → relsign verify', () => {
  for (const storage of ['legacy', 'referrers', 'both'] as const) {
    it(`${storage}: two keys sign one image; each verifies; a third key, a changed -a, another image's digest fail`, async () => {
      const repository = `app-${storage}`;
      const img = await pushImage(repository, '1.0.0', storage);
      const other = await pushImage(repository, '2.0.0', `${storage}-other`);
      const byTag = `${reg.host}/${repository}:1.0.0`;
      const hex = img.digest.slice(7);

      const s1 = await sign(['--key', keys[0]!.keyFile, '-a', 'env=prod', '--storage', storage, byTag]);
      expect(s1.code, s1.stderr).toBe(0);
      expect(s1.stderr).toContain(`Signing ${reg.host}/${repository}@${img.digest} (tag 1.0.0)`);
      const s2 = await sign([`--key=${keys[1]!.keyFile}`, '-a', 'env=prod', '--storage', storage, '--yes', `${reg.host}/${repository}@${img.digest}`]);
      expect(s2.code, s2.stderr).toBe(0);

      // The layouts as cosign reads them.
      const sigTag = await manifestJson(repository, `sha256-${hex}.sig`);
      const index = await manifestJson(repository, `sha256-${hex}`);
      if (storage === 'referrers') expect(sigTag).toBeUndefined();
      else {
        expect(sigTag.layers).toHaveLength(2);
        expect(sigTag.layers.map((l: Descriptor) => l.mediaType)).toEqual(Array(2).fill('application/vnd.dev.cosign.simplesigning.v1+json'));
        const config = JSON.parse((await client.getBlobBytes({ registry: reg.host, repository }, sigTag.config.digest)).toString());
        expect(config).toEqual({
          architecture: '',
          created: '0001-01-01T00:00:00Z',
          history: [{ created: '0001-01-01T00:00:00Z' }, { created: '0001-01-01T00:00:00Z' }],
          os: '',
          rootfs: { type: 'layers', diff_ids: sigTag.layers.map((l: Descriptor) => l.digest) },
          config: {},
        });
      }
      if (storage === 'legacy') expect(index).toBeUndefined();
      else {
        expect(index.mediaType).toBe(OCI_INDEX);
        expect(index.manifests).toHaveLength(2);
        for (const m of index.manifests) {
          expect(m.artifactType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
          const ref = await manifestJson(repository, m.digest);
          expect(ref.subject).toEqual({ mediaType: OCI_MANIFEST, digest: img.digest, size: img.size });
          expect(ref.config).toEqual({ mediaType: 'application/vnd.oci.empty.v1+json', artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json', digest: EMPTY_DIGEST, size: 2 });
          expect(ref.annotations['dev.sigstore.bundle.content']).toBe('dsse-envelope');
          expect(ref.annotations['dev.sigstore.bundle.predicateType']).toBe('https://sigstore.dev/cosign/sign/v1');
          expect(ref.annotations['org.opencontainers.image.created']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
          const bundle = JSON.parse((await client.getBlobBytes({ registry: reg.host, repository }, ref.layers[0].digest)).toString());
          expect(bundle.dsseEnvelope.payloadType).toBe('application/vnd.in-toto+json');
          expect(JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString()).subject).toEqual([
            { digest: { sha256: hex }, annotations: { env: 'prod' } },
          ]);
        }
      }

      const perLayout = storage === 'both' ? 2 : 1;
      for (const k of keys.slice(0, 2)) {
        const ok = await verify(['--key', k.pubFile, '-a', 'env=prod', byTag]);
        expect(ok.code, ok.stderr).toBe(0);
        const out = JSON.parse(ok.stdout);
        expect(out).toHaveLength(perLayout);
        expect(out[0]).toEqual({
          critical: { identity: { 'docker-reference': `${reg.host}/${repository}` }, image: { 'docker-manifest-digest': img.digest }, type: 'cosign container image signature' },
          optional: { env: 'prod' },
        });
      }
      const third = await verify(['--key', keys[2]!.pubFile, byTag]);
      expect(third.code).toBe(12);
      expect(third.stderr).toMatch(/^relsign: no matching signatures for .*: .* does not verify with k3\.pub/);
      const changed = await verify(['--key', keys[0]!.pubFile, '-a', 'env=staging', byTag]);
      expect(changed.code).toBe(12);
      expect(changed.stderr).toContain('annotation "env" is "prod", want "staging"');
      const unsigned = await verify(['--key', keys[0]!.pubFile, `${reg.host}/${repository}:2.0.0`]);
      expect(unsigned.code).toBe(10);
      expect(unsigned.stderr).toBe(`relsign: no signatures found for ${reg.host}/${repository}@${other.digest}`);

      // Signatures replayed onto another image (copied tags) do not verify it.
      const repo = { registry: reg.host, repository };
      const ohex = other.digest.slice(7);
      if (sigTag) {
        const got = await client.getManifest(repo, `sha256-${hex}.sig`);
        await client.putManifest(repo, `sha256-${ohex}.sig`, got!.bytes, OCI_MANIFEST);
      }
      if (index) {
        const got = await client.getManifest(repo, `sha256-${hex}`);
        await client.putManifest(repo, `sha256-${ohex}`, got!.bytes, OCI_INDEX);
      }
      const replayed = await verify(['--key', keys[0]!.pubFile, `${reg.host}/${repository}:2.0.0`]);
      expect(replayed.code).toBe(12);
      expect(replayed.stderr).toMatch(storage === 'referrers' ? /its subject is sha256:[0-9a-f]{64}, not sha256:/ : /the payload signs sha256:[0-9a-f]{64}, not sha256:/);

      // Signing again with the same key adds nothing (same layer, same bundle).
      const again = await sign(['--key', keys[0]!.keyFile, '-a', 'env=prod', '--storage', storage, byTag]);
      expect(again.code, again.stderr).toBe(0);
      if (sigTag) expect((await manifestJson(repository, `sha256-${hex}.sig`)).layers).toHaveLength(2);
      if (index) expect((await manifestJson(repository, `sha256-${hex}`)).manifests).toHaveLength(2);
    }, 60_000);
  }

  it('bad input: a missing image is exit 11 for verify; unknown --storage is a usage error; no stack traces', async () => {
    const missing = await verify(['--key', keys[0]!.pubFile, `${reg.host}/nope:1`]);
    expect(missing.code).toBe(11);
    expect(missing.stderr).toBe(`relsign: image ${reg.host}/nope:1 not found`);
    const storage = await sign(['--key', keys[0]!.keyFile, '--storage', 'tags', `${reg.host}/nope:1`]);
    expect(storage.code).toBe(2);
    expect(storage.stderr).toBe('relsign: --storage "tags": want legacy, referrers or both');
    const badA = await verify(['--key', keys[0]!.pubFile, '-a', 'novalue', `${reg.host}/nope:1`]);
    expect(badA.code).toBe(2);
    for (const r of [missing, storage, badA]) expect(hasStackTrace(r.stderr)).toBe(false);
  });
});

describe('concurrent writers', () => {
  for (const storage of ['legacy', 'referrers'] as SignatureStorage[]) {
    it(`${storage}: two signers in parallel on one image both end up in the registry`, async () => {
      for (let round = 0; round < 3; round++) {
        const repository = `race-${storage}`;
        const img = await pushImage(repository, `r${round}`, `race-${storage}-${round}`);
        const repo = { registry: reg.host, repository };
        const results = await Promise.all(
          keys.slice(0, 2).map((k) =>
            signImage({ registry: new RegistryClient({ credentials: async () => undefined }), repo, dockerReference: `${reg.host}/${repository}`, subject: img, signer: k.signer, storage, created: new Date('2024-01-02T03:04:05Z') }),
          ),
        );
        expect(results.every((r) => (r.legacy ?? r.referrers)!.result === 'added')).toBe(true);
        const hex = img.digest.slice(7);
        if (storage === 'legacy') expect((await manifestJson(repository, `sha256-${hex}.sig`)).layers).toHaveLength(2);
        else expect((await manifestJson(repository, `sha256-${hex}`)).manifests).toHaveLength(2);
        for (const k of keys.slice(0, 2)) {
          const ok = await verify(['--key', k.pubFile, `${reg.host}/${repository}@${img.digest}`]);
          expect(ok.code, ok.stderr).toBe(0);
        }
      }
    }, 60_000);
  }
});

describe('limits', () => {
  it("a .sig manifest already at cosign's 1000-layer cap gets no new layer, with a clear error", async () => {
    const repository = 'capped';
    const repo = { registry: reg.host, repository };
    const img = await pushImage(repository, 'v1', 'capped');
    const payload = Buffer.from('{"critical":{}}');
    await client.pushBlob(repo, { digest: sha(payload), size: payload.length }, () => payload);
    const layers = Array.from({ length: 1000 }, () => ({ mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json', digest: sha(payload), size: payload.length, annotations: { 'dev.cosignproject.cosign/signature': 'AAAA' } }));
    const config = signatureConfig(layers.map((l) => l.digest));
    await client.pushBlob(repo, { digest: sha(config), size: config.length }, () => config);
    await client.putManifest(repo, `sha256-${img.digest.slice(7)}.sig`, signatureManifest({ digest: sha(config), size: config.length }, layers), OCI_MANIFEST);
    const r = await sign(['--key', keys[0]!.keyFile, `${reg.host}/${repository}:v1`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`\nrelsign: sign ${reg.host}/${repository}:sha256-${img.digest.slice(7)}.sig: the signature manifest already has 1000 layers (cosign's limit); no signature added`);
  }, 60_000);
});

describe('an independent reader: containers/image (skopeo) reads the legacy layout', () => {
  it('skopeo copy with use-sigstore-attachments finds both relsign-made signatures; each verifies with its key', async () => {
    const repository = 'skopeo-read';
    const img = await pushImage(repository, 'v1', 'skopeo');
    for (const [i, k] of keys.slice(0, 2).entries()) {
      const r = await sign(['--key', k.keyFile, '-a', `signer=${i}`, `${reg.host}/${repository}:v1`]);
      expect(r.code, r.stderr).toBe(0);
    }
    const dir = await mkdtemp(join(work, 'skopeo-'));
    await mkdir(join(dir, 'registries.d'));
    await writeFile(join(dir, 'registries.d', 'local.yaml'), `docker:\n  ${reg.host}:\n    use-sigstore-attachments: true\n`);
    await writeFile(join(dir, 'policy.json'), '{"default":[{"type":"insecureAcceptAnything"}]}');
    const { execa } = await import('execa');
    const out = join(dir, 'out');
    const copy = await execa(
      'skopeo',
      ['--policy', join(dir, 'policy.json'), '--registries.d', join(dir, 'registries.d'), 'copy', '--src-tls-verify=false', `docker://${reg.host}/${repository}@${img.digest}`, `dir:${out}`],
      { reject: false, env: { HOME: dir, PATH: process.env.PATH ?? '/usr/bin:/bin' } },
    );
    expect(copy.exitCode, copy.stderr).toBe(0);
    const { checkLegacyLayer } = await import('../../src/oci/verify.js');
    const { parsePublicKeyPem } = await import('../../src/sigstore/keys.js');
    for (const [i, k] of keys.slice(0, 2).entries()) {
      const raw = await readFile(join(out, `signature-${i + 1}`));
      const prefix = Buffer.from('\0sigstore-json\n');
      expect(raw.subarray(0, prefix.length).equals(prefix)).toBe(true);
      const stored = JSON.parse(raw.subarray(prefix.length).toString()) as { mimeType: string; payload: string; annotations: Record<string, string> };
      expect(stored.mimeType).toBe('application/vnd.dev.cosign.simplesigning.v1+json');
      const key = { key: parsePublicKeyPem(await readFile(k.pubFile, 'utf8'), `k${i + 1}.pub`), source: `k${i + 1}.pub` };
      const o = checkLegacyLayer({ mediaType: stored.mimeType, payload: Buffer.from(stored.payload, 'base64'), annotations: stored.annotations }, img.digest, `signature-${i + 1}`, { key, annotations: { signer: String(i) } });
      expect(o.ok, JSON.stringify(o)).toBe(true);
    }
  }, 60_000);
});
