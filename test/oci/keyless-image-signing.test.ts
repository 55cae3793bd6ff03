/**
 * `relsign sign` keyless and with a key + transparency log, against a real
 * registry and @sigstore/mock's Fulcio, Rekor and TSA on loopback. The legacy
 * `.sig` layer carries cosign's certificate, chain, Rekor bundle and timestamp
 * annotations; the referrer holds a bundle with the certificate (or key hint)
 * and a dsse log entry. Both are checked with @sigstore/verify.
 */
import { createHash, createPublicKey, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../src/oci/client.js';
import { listReferrers } from '../../src/oci/sign/index.js';
import { OCI_CONFIG, OCI_LAYER_GZIP, OCI_MANIFEST, type Descriptor } from '../../src/oci/types.js';
import { generateKeyPair } from '../../src/sigstore/keys.js';
import { runCli } from '../helpers/cli.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { DEFAULT_IDENTITY, DEFAULT_ISSUER, startSigstoreServices, type SigstoreServices } from '../helpers/sigstore-services.js';

const PASSWORD = 'image tlog pass';
const BUNDLE_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
let reg: TestRegistry;
let s: SigstoreServices;
let client: RegistryClient;
let work: string;
const sha = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

beforeAll(async () => {
  reg = await startRegistry();
  s = await startSigstoreServices();
  client = new RegistryClient({ credentials: async () => undefined });
  work = await mkdtemp(join(tmpdir(), 'relsign-kl-img-'));
  const pems = await generateKeyPair(PASSWORD);
  await writeFile(join(work, 'cosign.key'), pems.privateKeyPem);
  await writeFile(join(work, 'cosign.pub'), pems.publicKeyPem);
}, 60_000);
afterAll(async () => {
  await reg?.stop();
  await s?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

async function pushImage(repository: string): Promise<string> {
  const repo = { registry: reg.host, repository };
  const layer = Buffer.from(`layer of ${repository}`);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha(layer)] } }));
  await client.pushBlob(repo, { digest: sha(layer), size: layer.length }, () => layer);
  await client.pushBlob(repo, { digest: sha(config), size: config.length }, () => config);
  const m = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: OCI_CONFIG, digest: sha(config), size: config.length }, layers: [{ mediaType: OCI_LAYER_GZIP, digest: sha(layer), size: layer.length }] }));
  return (await client.putManifest(repo, '1.0', m, OCI_MANIFEST)).digest;
}

async function blob(repository: string, digest: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of await client.getBlob({ registry: reg.host, repository }, digest)) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks);
}

async function root(): Promise<TrustedRoot> {
  return TrustedRoot.fromJSON(JSON.parse(await readFile(s.trustedRootPath, 'utf8')));
}

const services = () => ['--fulcio-url', s.fulcioURL, '--rekor-url', s.rekorURL];

describe('relsign sign, keyless', () => {
  it('legacy: the .sig layer carries certificate, chain, Rekor bundle and timestamp as cosign writes them; they verify', async () => {
    const digest = await pushImage('kl-legacy');
    const token = s.makeIdToken();
    const r = await runCli(['sign', '--yes', ...services(), '--timestamp-server-url', s.tsaURL, '--storage', 'legacy', `${reg.host}/kl-legacy@${digest}`], {
      env: { SIGSTORE_ID_TOKEN: token, ACTIONS_ID_TOKEN_REQUEST_URL: undefined },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toContain(token);
    const sig = (await client.getManifest({ registry: reg.host, repository: 'kl-legacy' }, `${digest.replace(':', '-')}.sig`))!.json as { layers: Descriptor[] };
    expect(sig.layers).toHaveLength(1);
    const layer = sig.layers[0]!;
    const a = layer.annotations!;
    expect(Object.keys(a).sort()).toEqual([
      'dev.cosignproject.cosign/signature',
      'dev.sigstore.cosign/bundle',
      'dev.sigstore.cosign/certificate',
      'dev.sigstore.cosign/chain',
      'dev.sigstore.cosign/rfc3161timestamp',
    ]);
    const leaf = new X509Certificate(a['dev.sigstore.cosign/certificate']!);
    expect(leaf.subjectAltName).toBe(`URI:${DEFAULT_IDENTITY}`);
    const chainRoot = new X509Certificate(a['dev.sigstore.cosign/chain']!);
    expect(leaf.verify(chainRoot.publicKey)).toBe(true);
    expect(Object.keys(JSON.parse(a['dev.sigstore.cosign/rfc3161timestamp']!))).toEqual(['SignedRFC3161Timestamp']);

    // The Rekor bundle is a hashedrekord of this payload, signature and certificate; re-expressed as a
    // v0.1 Sigstore bundle it passes @sigstore/verify (SET, SCT, identity, signature over the payload).
    const payload = await blob('kl-legacy', layer.digest);
    const rekor = JSON.parse(a['dev.sigstore.cosign/bundle']!);
    expect(Object.keys(rekor)).toEqual(['SignedEntryTimestamp', 'Payload']);
    const body = JSON.parse(Buffer.from(rekor.Payload.body, 'base64').toString());
    expect(body.spec.data.hash.value).toBe(createHash('sha256').update(payload).digest('hex'));
    const v01 = {
      mediaType: 'application/vnd.dev.sigstore.bundle+json;version=0.1',
      verificationMaterial: {
        x509CertificateChain: { certificates: [{ rawBytes: leaf.raw.toString('base64') }] },
        tlogEntries: [
          {
            logIndex: String(rekor.Payload.logIndex),
            logId: { keyId: Buffer.from(rekor.Payload.logID, 'hex').toString('base64') },
            kindVersion: { kind: 'hashedrekord', version: '0.0.1' },
            integratedTime: String(rekor.Payload.integratedTime),
            inclusionPromise: { signedEntryTimestamp: rekor.SignedEntryTimestamp },
            canonicalizedBody: rekor.Payload.body,
          },
        ],
      },
      messageSignature: {
        messageDigest: { algorithm: 'SHA2_256', digest: createHash('sha256').update(payload).digest('base64') },
        signature: a['dev.cosignproject.cosign/signature'],
      },
    };
    const v = new Verifier(toTrustMaterial(await root()), { tlogThreshold: 1, ctlogThreshold: 1, timestampThreshold: 0 });
    v.verify(toSignedEntity(bundleFromJSON(v01), payload), { subjectAlternativeName: DEFAULT_IDENTITY, extensions: { issuer: DEFAULT_ISSUER } });
    expect(() => v.verify(toSignedEntity(bundleFromJSON(v01), Buffer.from('{}')))).toThrow();
  });

  it('default storage is referrers: a bundle with the certificate and a dsse entry; verifies; the statement names the digest', async () => {
    const digest = await pushImage('kl-ref');
    const r = await runCli(['sign', '--yes', ...services(), `${reg.host}/kl-ref:1.0`], { env: { SIGSTORE_ID_TOKEN: s.makeIdToken(), ACTIONS_ID_TOKEN_REQUEST_URL: undefined } });
    expect(r.code, r.stderr).toBe(0);
    const repo = { registry: reg.host, repository: 'kl-ref' };
    const refs = await listReferrers(client, repo, digest, BUNDLE_TYPE);
    expect(refs.manifests).toHaveLength(1);
    const m = (await client.getManifest(repo, refs.manifests[0]!.digest))!.json as { layers: Descriptor[] };
    const bundle = JSON.parse((await blob('kl-ref', m.layers[0]!.digest)).toString());
    expect(bundle.verificationMaterial.certificate.rawBytes).toBeTruthy();
    expect(bundle.verificationMaterial.tlogEntries[0].kindVersion).toEqual({ kind: 'dsse', version: '0.0.1' });
    const v = new Verifier(toTrustMaterial(await root()), { tlogThreshold: 1, ctlogThreshold: 1, timestampThreshold: 0 });
    v.verify(toSignedEntity(bundleFromJSON(bundle)), { subjectAlternativeName: DEFAULT_IDENTITY });
    expect(JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString()).subject[0].digest.sha256).toBe(digest.slice(7));
    expect(() => v.verify(toSignedEntity(bundleFromJSON(bundle)), { subjectAlternativeName: 'https://github.com/someone/else' })).toThrow();
  });
});

describe('relsign sign --key with the transparency log', () => {
  it('storage both: the .sig layer has a Rekor bundle and no certificate; the referrer bundle has a dsse entry that verifies with the key', async () => {
    const digest = await pushImage('key-tlog');
    const r = await runCli(['sign', '--yes', '--key', 'cosign.key', '--rekor-url', s.rekorURL, '--storage', 'both', `${reg.host}/key-tlog@${digest}`], {
      env: { COSIGN_PASSWORD: PASSWORD },
      cwd: work,
    });
    expect(r.code, r.stderr).toBe(0);
    const sig = (await client.getManifest({ registry: reg.host, repository: 'key-tlog' }, `${digest.replace(':', '-')}.sig`))!.json as { layers: Descriptor[] };
    expect(Object.keys(sig.layers[0]!.annotations!).sort()).toEqual(['dev.cosignproject.cosign/signature', 'dev.sigstore.cosign/bundle']);
    const repo = { registry: reg.host, repository: 'key-tlog' };
    const refs = await listReferrers(client, repo, digest, BUNDLE_TYPE);
    const m = (await client.getManifest(repo, refs.manifests[0]!.digest))!.json as { layers: Descriptor[] };
    const bundle = JSON.parse((await blob('key-tlog', m.layers[0]!.digest)).toString());
    expect(bundle.verificationMaterial.publicKey.hint).toBeTruthy();
    const key = createPublicKey(await readFile(join(work, 'cosign.pub'), 'utf8'));
    const v = new Verifier(toTrustMaterial(await root(), () => ({ publicKey: key, validFor: () => true })), { tlogThreshold: 1, ctlogThreshold: 0, timestampThreshold: 0 });
    v.verify(toSignedEntity(bundleFromJSON(bundle)));
    // the same relsign verify that existing users run still accepts the key signatures
    const ok = await runCli(['verify', '--key', 'cosign.pub', '--insecure-ignore-tlog', `${reg.host}/key-tlog@${digest}`], { cwd: work });
    expect(ok.code, ok.stderr).toBe(0);
  });
});
