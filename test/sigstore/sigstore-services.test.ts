/**
 * The mock Sigstore services themselves: the official client libraries sign
 * against them and @sigstore/verify accepts the result with the generated
 * trusted root — so tests built on them exercise real protocol round trips.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FulcioSigner, MessageSignatureBundleBuilder, RekorWitness, TSAWitness } from '@sigstore/sign';
import { bundleFromJSON, bundleToJSON } from '@sigstore/bundle';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { readFile } from 'node:fs/promises';
import { DEFAULT_IDENTITY, DEFAULT_ISSUER, startSigstoreServices, type SigstoreServices } from '../helpers/sigstore-services.js';

let s: SigstoreServices;
beforeAll(async () => {
  s = await startSigstoreServices();
});
afterAll(async () => {
  await s?.stop();
});

function builder(token: string, tsa = true) {
  return new MessageSignatureBundleBuilder({
    signer: new FulcioSigner({ fulcioBaseURL: s.fulcioURL, identityProvider: { getToken: async () => token } }),
    witnesses: [new RekorWitness({ rekorBaseURL: s.rekorURL }), ...(tsa ? [new TSAWitness({ tsaBaseURL: s.tsaURL })] : [])],
  });
}

async function verifier() {
  const root = TrustedRoot.fromJSON(JSON.parse(await readFile(s.trustedRootPath, 'utf8')));
  return new Verifier(toTrustMaterial(root), { tlogThreshold: 1, ctlogThreshold: 1, timestampThreshold: 1 });
}

describe('mock Sigstore services', () => {
  it('issue a certificate, log the entry and timestamp it; @sigstore/verify accepts the bundle with the generated trusted root', async () => {
    const data = Buffer.from('hello sigstore\n');
    const bundle = await builder(s.makeIdToken()).create({ data });
    const json = bundleToJSON(bundle) as Record<string, any>;
    const vm = json.verificationMaterial;
    expect(vm.certificate?.rawBytes ?? vm.x509CertificateChain?.certificates?.[0]?.rawBytes).toBeTruthy();
    expect(json.verificationMaterial.tlogEntries).toHaveLength(1);
    expect(json.verificationMaterial.timestampVerificationData.rfc3161Timestamps).toHaveLength(1);
    const v = await verifier();
    const signer = v.verify(toSignedEntity(bundleFromJSON(json), data), {
      subjectAlternativeName: DEFAULT_IDENTITY,
      extensions: { issuer: DEFAULT_ISSUER },
    });
    expect(signer.identity?.subjectAlternativeName).toBe(DEFAULT_IDENTITY);
    expect(signer.identity?.extensions?.issuer).toBe(DEFAULT_ISSUER);
    // a different artifact does not verify
    expect(() => v.verify(toSignedEntity(bundleFromJSON(json), Buffer.from('other')))).toThrow();
    expect(() => v.verify(toSignedEntity(bundleFromJSON(json), data), { subjectAlternativeName: 'https://github.com/evil/repo/.github/workflows/x.yml@refs/heads/main' })).toThrow();
  });

  it('the Fulcio front rejects a token signed by another key, with the wrong audience, or expired', async () => {
    await expect(builder(s.makeForeignIdToken()).create({ data: Buffer.from('x') })).rejects.toThrow(/401/);
    await expect(builder(s.makeIdToken({ aud: 'other' })).create({ data: Buffer.from('x') })).rejects.toThrow(/401/);
    await expect(builder(s.makeIdToken({ exp: 1000 })).create({ data: Buffer.from('x') })).rejects.toThrow(/401/);
  });

  it('a GitLab token gets the ci_config_ref_uri identity', async () => {
    const token = s.makeIdToken({
      iss: 'https://gitlab.com',
      job_workflow_ref: undefined,
      ci_config_ref_uri: 'gitlab.com/group/project//.gitlab-ci.yml@refs/tags/v1.0.0',
    });
    const data = Buffer.from('gitlab');
    const bundle = await builder(token, false).create({ data });
    const signer = (await verifier()).verify(toSignedEntity(bundle, data));
    expect(signer.identity?.subjectAlternativeName).toBe('https://gitlab.com/group/project//.gitlab-ci.yml@refs/tags/v1.0.0');
    expect(signer.identity?.extensions?.issuer).toBe('https://gitlab.com');
  });

  it('faults: a status for N requests, then the real answer; requests are counted', async () => {
    s.fault('rekor', { status: 502, times: 1 });
    const before = s.requests.rekor;
    await expect(new RekorWitness({ rekorBaseURL: s.rekorURL, retry: 0 }).testify(
      { $case: 'messageSignature', messageSignature: { messageDigest: { algorithm: 0 as never, digest: Buffer.alloc(32) }, signature: Buffer.alloc(8) } },
      '-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n',
    )).rejects.toThrow(/502/);
    expect(s.requests.rekor).toBe(before + 1);
    s.fault('rekor', null);
  });
});
