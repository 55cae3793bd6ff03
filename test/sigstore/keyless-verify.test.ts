/**
 * Keyless and tlog verification against bundles made for real by the official
 * signing library (@sigstore/sign) with @sigstore/mock's Fulcio, Rekor and TSA
 * served on loopback (test/helpers/sigstore-services.ts), and a trusted root
 * built from the mock's keys: `relsign verify-blob` and `relsign verify IMAGE`
 * (both layouts, in a real registry) accept them, and refuse a tampered
 * payload, a wrong identity, a wrong issuer and a log entry for another
 * artifact, each with one line saying which.
 */
import { createHash, generateKeyPairSync, sign as signData } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleToJSON } from '@sigstore/bundle';
import { RFC3161Timestamp } from '@sigstore/core';
import { DSSEBundleBuilder, FulcioSigner, MessageSignatureBundleBuilder, RekorWitness, TSAWitness, type Signer as SigstoreSigner } from '@sigstore/sign';
import { RegistryClient } from '../../src/oci/client.js';
import { signStatement, simpleSigningPayload, writeLegacySignature, writeReferrerBundle } from '../../src/oci/sign/index.js';
import { OCI_CONFIG, OCI_LAYER_GZIP, OCI_MANIFEST, type Descriptor } from '../../src/oci/types.js';
import { hasStackTrace, runCli } from '../helpers/cli.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { DEFAULT_IDENTITY, DEFAULT_ISSUER, startSigstoreServices, type SigstoreServices } from '../helpers/sigstore-services.js';

let s: SigstoreServices;
let work: string;
beforeAll(async () => {
  s = await startSigstoreServices();
  work = await mkdtemp(join(tmpdir(), 'relsign-keyless-verify-'));
}, 60_000);
afterAll(async () => {
  await s?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

const fulcio = () => new FulcioSigner({ fulcioBaseURL: s.fulcioURL, identityProvider: { getToken: async () => s.makeIdToken() } });
const witnesses = (tsa: boolean) => [new RekorWitness({ rekorBaseURL: s.rekorURL }), ...(tsa ? [new TSAWitness({ tsaBaseURL: s.tsaURL })] : [])];

/**
 * The mock TSA encodes its time with pkijs, which (as DER asks) drops trailing
 * zeros of the milliseconds ("….12Z"); @sigstore/core's parser wants exactly
 * three digits, so about one timestamp in ten cannot be read and then does not
 * count as a time. Tests that need the TSA's time sign again (bounded) until
 * the timestamp is readable, so they do not depend on the clock.
 */
async function withReadableTimestamp(make: () => Promise<Record<string, any>>): Promise<Record<string, any>> {
  for (let i = 0; i < 20; i++) {
    const b = await make();
    const ts = b.verificationMaterial?.timestampVerificationData?.rfc3161Timestamps?.[0]?.signedTimestamp;
    if (ts === undefined) return b;
    try {
      void RFC3161Timestamp.parse(Buffer.from(ts, 'base64')).signingTime;
      return b;
    } catch {
      /* sign again */
    }
  }
  throw new Error('the mock TSA gave no readable timestamp in 20 tries');
}

async function keylessBlobBundle(data: Buffer, tsa = true): Promise<Record<string, any>> {
  return withReadableTimestamp(async () => {
    const bundle = await new MessageSignatureBundleBuilder({ signer: fulcio(), witnesses: witnesses(tsa) }).create({ data });
    return bundleToJSON(bundle) as Record<string, any>;
  });
}

const ID = ['--certificate-identity', DEFAULT_IDENTITY, '--certificate-oidc-issuer', DEFAULT_ISSUER];

describe('verify-blob, keyless, against the mock services', () => {
  let file: string;
  let bundleFile: string;
  let bundle: Record<string, any>;
  const verify = (args: string[]) => runCli(['verify-blob', '--trusted-root', s.trustedRootPath, ...args]);

  beforeAll(async () => {
    file = join(work, 'app.tar.gz');
    await writeFile(file, 'release archive\n'.repeat(1000));
    bundle = await keylessBlobBundle(await readFile(file));
    bundleFile = join(work, 'app.tar.gz.sigstore.json');
    await writeFile(bundleFile, JSON.stringify(bundle));
  });

  it('a Fulcio-certified, Rekor-logged, TSA-timestamped bundle verifies with the right identity and issuer (exact or RE2 regexps)', async () => {
    expect(await verify(['--bundle', bundleFile, ...ID, file])).toMatchObject({ code: 0, stderr: 'Verified OK' });
    const re = await verify(['--bundle', bundleFile, '--certificate-identity-regexp', '^https://github\\.com/octo-org/', '--certificate-oidc-issuer-regexp', 'githubusercontent', file]);
    expect(re).toMatchObject({ code: 0, stderr: 'Verified OK' });
  });

  it('a tampered payload fails', async () => {
    const tampered = join(work, 'tampered.tar.gz');
    await writeFile(tampered, `${'release archive\n'.repeat(1000)}x`);
    const r = await verify(['--bundle', bundleFile, ...ID, tampered]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^relsign: bundle digest mismatch: .*tampered\.tar\.gz has sha256 [0-9a-f]{64}, the bundle signed [0-9a-f]{64}$/);
  });

  it('a wrong identity fails, naming both', async () => {
    const r = await verify(['--bundle', bundleFile, '--certificate-identity', 'https://github.com/evil/repo/.github/workflows/x.yml@refs/heads/main', '--certificate-oidc-issuer', DEFAULT_ISSUER, file]);
    expect(r).toMatchObject({
      code: 1,
      stderr: `relsign: wrong certificate identity: the certificate names "${DEFAULT_IDENTITY}", want "https://github.com/evil/repo/.github/workflows/x.yml@refs/heads/main"`,
    });
    // Unanchored like cosign: a regexp that matches a part of the identity is enough, so anchor it.
    const anchored = await verify(['--bundle', bundleFile, '--certificate-identity-regexp', '^https://github\\.com/octo-org/other/', '--certificate-oidc-issuer', DEFAULT_ISSUER, file]);
    expect(anchored.code).toBe(1);
    expect(anchored.stderr).toMatch(/^relsign: wrong certificate identity: .* want one matching regexp/);
  });

  it('a wrong issuer fails', async () => {
    const r = await verify(['--bundle', bundleFile, '--certificate-identity', DEFAULT_IDENTITY, '--certificate-oidc-issuer', 'https://gitlab.com', file]);
    expect(r).toMatchObject({ code: 1, stderr: `relsign: wrong certificate OIDC issuer: the certificate names "${DEFAULT_ISSUER}", want "https://gitlab.com"` });
  });

  it('a log entry for another artifact fails (the entry of another signing spliced in)', async () => {
    const other = await keylessBlobBundle(Buffer.from('another artifact\n'));
    const spliced = structuredClone(bundle);
    spliced.verificationMaterial.tlogEntries = other.verificationMaterial.tlogEntries;
    const f = join(work, 'spliced.sigstore.json');
    await writeFile(f, JSON.stringify(spliced));
    const r = await verify(['--bundle', f, ...ID, file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^relsign: the transparency-log entry is for another artifact or signature: /);
    expect(hasStackTrace(r.stderr)).toBe(false);
  });

  it('trust: another trusted root refuses the certificate; --insecure-ignore-tlog still needs a trusted time (the TSA)', async () => {
    const other = await startSigstoreServices();
    try {
      const r = await runCli(['verify-blob', '--trusted-root', other.trustedRootPath, '--bundle', bundleFile, ...ID, file]);
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^relsign: (no trusted time for the signature|the certificate does not chain|the transparency-log entry's signed entry timestamp)/);
    } finally {
      await other.stop();
    }
    expect(await verify(['--bundle', bundleFile, ...ID, '--insecure-ignore-tlog', file])).toMatchObject({ code: 0, stderr: 'Verified OK' });
    const noTsa = await keylessBlobBundle(await readFile(file), false);
    const f = join(work, 'no-tsa.sigstore.json');
    await writeFile(f, JSON.stringify(noTsa));
    expect(await verify(['--bundle', f, ...ID, file])).toMatchObject({ code: 0, stderr: 'Verified OK' });
    const r = await verify(['--bundle', f, ...ID, '--insecure-ignore-tlog', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^relsign: no trusted time for the signature: .*RFC 3161 timestamp$/);
  });

  it('a key-signed bundle with a Rekor entry verifies with --key and the log checked; the key-only path still works', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const keySigner: SigstoreSigner = {
      sign: async (data: Buffer) => ({ signature: signData('sha256', data, privateKey), key: { $case: 'publicKey', publicKey: pem } }),
    };
    const data = await readFile(file);
    const b = bundleToJSON(await new MessageSignatureBundleBuilder({ signer: keySigner, witnesses: witnesses(false) }).create({ data }));
    const f = join(work, 'key.sigstore.json');
    const pub = join(work, 'key.pub');
    await writeFile(f, JSON.stringify(b));
    await writeFile(pub, pem);
    expect(await verify(['--key', pub, '--bundle', f, file])).toMatchObject({ code: 0, stderr: 'Verified OK' });
    expect(await runCli(['verify-blob', '--key', pub, '--bundle', f, '--insecure-ignore-tlog', file])).toMatchObject({ code: 0, stderr: 'Verified OK' });
    // The same bundle, its entry's body from another signing: refused, unless the log is ignored.
    const other = bundleToJSON(await new MessageSignatureBundleBuilder({ signer: keySigner, witnesses: witnesses(false) }).create({ data: Buffer.from('x') })) as Record<string, any>;
    const spliced = structuredClone(b) as Record<string, any>;
    spliced.verificationMaterial.tlogEntries = other.verificationMaterial.tlogEntries;
    await writeFile(f, JSON.stringify(spliced));
    const r = await verify(['--key', pub, '--bundle', f, file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^relsign: the transparency-log entry is for another artifact or signature/);
    // keyless flags are refused on a key-signed bundle
    const k = await verify(['--bundle', f, ...ID, file]);
    expect(k).toMatchObject({ code: 1 });
    expect(k.stderr).toMatch(/is signed with a public key, not a certificate: verify it with --key$/);
  });
});

describe('verify IMAGE, keyless, against the mock services and a real registry', () => {
  let reg: TestRegistry;
  let client: RegistryClient;
  beforeAll(async () => {
    reg = await startRegistry();
    client = new RegistryClient({ credentials: async () => undefined });
  }, 60_000);
  afterAll(async () => {
    await reg?.stop();
  });

  const sha = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
  async function pushImage(repository: string, seed: string): Promise<Descriptor> {
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
    const { digest } = await client.putManifest(repo, 'v1', manifest, OCI_MANIFEST);
    return { mediaType: OCI_MANIFEST, digest, size: manifest.length };
  }
  const verify = (args: string[]) => runCli(['verify', '--trusted-root', s.trustedRootPath, ...args]);

  it('legacy layout: certificate, chain and Rekor bundle annotations as cosign writes them', async () => {
    const repository = 'keyless/legacy';
    const img = await pushImage(repository, 'legacy');
    const name = `${reg.host}/${repository}`;
    const payload = simpleSigningPayload({ digest: img.digest, dockerReference: name });
    const b = await keylessBlobBundle(payload, false);
    const e = b.verificationMaterial.tlogEntries[0];
    const certDer = Buffer.from(b.verificationMaterial.x509CertificateChain?.certificates?.[0]?.rawBytes ?? b.verificationMaterial.certificate.rawBytes, 'base64');
    const pem = `-----BEGIN CERTIFICATE-----\n${certDer.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE-----\n`;
    const rekorBundle = {
      SignedEntryTimestamp: e.inclusionPromise.signedEntryTimestamp,
      Payload: { body: e.canonicalizedBody, integratedTime: Number(e.integratedTime), logIndex: Number(e.logIndex), logID: Buffer.from(e.logId.keyId, 'base64').toString('hex') },
    };
    await writeLegacySignature(client, { registry: reg.host, repository }, img.digest, {
      payload,
      signature: b.messageSignature.signature,
      annotations: { 'dev.sigstore.cosign/certificate': pem, 'dev.sigstore.cosign/chain': '', 'dev.sigstore.cosign/bundle': JSON.stringify(rekorBundle) },
      verifiesWithKey: () => false,
    });
    const ok = await verify([...ID, `${name}:v1`]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)[0].critical.image['docker-manifest-digest']).toBe(img.digest);
    const wrong = await verify(['--certificate-identity', DEFAULT_IDENTITY, '--certificate-oidc-issuer', 'https://gitlab.com', `${name}:v1`]);
    expect(wrong.code).toBe(12);
    expect(wrong.stderr).toContain(`wrong certificate OIDC issuer: the certificate names "${DEFAULT_ISSUER}", want "https://gitlab.com"`);
    const withKey = await runCli(['verify', '--key', join(work, 'key.pub'), '--insecure-ignore-tlog', `${name}:v1`]);
    expect(withKey.code).toBe(12);
    expect(withKey.stderr).toContain('signed with a certificate (keyless or private PKI)');
  });

  // The test services store dsse entries in Rekor's canonical form (see
  // test/helpers/sigstore-services.ts), so the whole chain is checked here, log included.
  it('referrers layout: a DSSE bundle (cosign v3) with certificate and TSA timestamp; a statement for another image does not count', async () => {
    const repository = 'keyless/referrers';
    const img = await pushImage(repository, 'referrers');
    const name = `${reg.host}/${repository}`;
    const builder = new DSSEBundleBuilder({ signer: fulcio(), witnesses: witnesses(true) });
    const stmt = signStatement({ digest: img.digest });
    const b = await withReadableTimestamp(async () => bundleToJSON(await builder.create({ data: stmt, type: 'application/vnd.in-toto+json' })) as Record<string, any>);
    await writeReferrerBundle(client, { registry: reg.host, repository }, img, Buffer.from(JSON.stringify(b)), { created: new Date(0) });
    const withLog = await verify([...ID, `${name}:v1`]);
    expect(withLog.code, withLog.stderr).toBe(0);
    const ok = await verify([...ID, '--insecure-ignore-tlog', `${name}:v1`]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).toContain('  - The code-signing certificate was verified using trusted certificate authority certificates');
    const wrongId = await verify(['--certificate-identity-regexp', '^https://github\\.com/evil/', '--certificate-oidc-issuer', DEFAULT_ISSUER, '--insecure-ignore-tlog', `${name}:v1`]);
    expect(wrongId.code).toBe(12);
    expect(wrongId.stderr).toContain('wrong certificate identity');

    // A valid keyless bundle whose statement names another image, attached to this one.
    const other = await pushImage('keyless/other', 'other');
    const b2 = await withReadableTimestamp(async () => bundleToJSON(await builder.create({ data: signStatement({ digest: other.digest }), type: 'application/vnd.in-toto+json' })) as Record<string, any>);
    const img2 = await pushImage('keyless/victim', 'victim');
    await writeReferrerBundle(client, { registry: reg.host, repository: 'keyless/victim' }, img2, Buffer.from(JSON.stringify(b2)), { created: new Date(0) });
    const r = await verify([...ID, '--insecure-ignore-tlog', `${reg.host}/keyless/victim:v1`]);
    expect(r.code).toBe(12);
    expect(r.stderr).toContain(`the statement's subject is not ${img2.digest}`);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
