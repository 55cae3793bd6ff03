import { describe, expect, it } from 'vitest';
import { signatureLayers } from '../../src/oci/sign/legacy.js';
import { indexManifests } from '../../src/oci/sign/referrers.js';
import { checkBundle, checkLegacyLayer, verdict } from '../../src/oci/verify.js';
import { IN_TOTO_PAYLOAD_TYPE, makeDsseBundle, pae } from '../../src/sigstore/dsse.js';
import { Signer } from '../../src/sigstore/signer.js';
import { signStatement, simpleSigningPayload } from '../../src/oci/sign/payload.js';

const signer = Signer.generate();
const other = Signer.generate();
const key = { key: signer.publicKey, source: 'cosign.pub' };
const DIGEST = `sha256:${'1'.repeat(64)}`;

async function layer(payload: Buffer, by = signer) {
  const sig = await by.signBytes(payload);
  return { mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json', payload, annotations: { 'dev.cosignproject.cosign/signature': sig.signature.toString('base64') } };
}

describe('the verification core fails closed on hostile signatures', () => {
  it('a validly signed payload that is not a strict simple-signing payload is rejected with the reason', async () => {
    const bad: Array<[unknown, string]> = [
      ['not json', 'the payload is not JSON'],
      [[1], 'the payload is not a JSON object'],
      [{ critical: { identity: { 'docker-reference': 'r' }, image: { 'docker-manifest-digest': DIGEST }, type: 'cosign container image signature', extra: 1 } }, 'payload "critical" must have exactly identity, image and type'],
      [{ critical: { identity: { 'docker-reference': 'r' }, image: { 'docker-manifest-digest': DIGEST }, type: 'atomic container signature' } }, 'payload type "atomic container signature" is not "cosign container image signature"'],
      [{ critical: { identity: { 'docker-reference': 'r' }, image: { 'docker-manifest-digest': 5 }, type: 'cosign container image signature' } }, 'payload "critical.image" must have exactly a docker-manifest-digest string'],
      [{ critical: { identity: { 'docker-reference': 'r' }, image: { 'docker-manifest-digest': DIGEST }, type: 'cosign container image signature' }, optional: 'x' }, 'payload "optional" must be null or an object'],
    ];
    for (const [p, reason] of bad) {
      const bytes = Buffer.from(typeof p === 'string' ? p : JSON.stringify(p));
      const o = checkLegacyLayer(await layer(bytes), DIGEST, 'l', { key });
      expect(o, reason).toEqual({ ok: false, rejected: { kind: 'malformed', source: 'l', reason } });
    }
  });

  it('a missing or non-base64 signature annotation, or one by another key, is rejected', async () => {
    const payload = simpleSigningPayload({ digest: DIGEST, dockerReference: 'r/x' });
    const l = await layer(payload);
    expect(checkLegacyLayer({ ...l, annotations: {} }, DIGEST, 'l', { key })).toMatchObject({ ok: false, rejected: { kind: 'malformed' } });
    expect(checkLegacyLayer({ ...l, annotations: { 'dev.cosignproject.cosign/signature': '***' } }, DIGEST, 'l', { key })).toMatchObject({ ok: false, rejected: { kind: 'malformed' } });
    expect(checkLegacyLayer(await layer(payload, other), DIGEST, 'l', { key })).toMatchObject({ ok: false, rejected: { kind: 'invalid-signature' } });
    expect(checkLegacyLayer(l, DIGEST, 'l', { key }).ok).toBe(true);
  });

  it('bundles: wrong payload type, another predicate, another subject, another key, not a bundle', async () => {
    const statement = signStatement({ digest: DIGEST });
    const bundleFor = async (payloadType: string, body: Buffer, by = signer) =>
      JSON.stringify(makeDsseBundle({ payload: body, payloadType, signature: (await by.signBytes(pae(payloadType, body))).signature, keyHint: by.keyHint }));
    const check = (text: string) => checkBundle(text, DIGEST, 'r/x', 'b', { key });
    expect(check(await bundleFor(IN_TOTO_PAYLOAD_TYPE, statement)).ok).toBe(true);
    expect(check(await bundleFor('text/plain', statement))).toMatchObject({ rejected: { kind: 'malformed' } });
    expect(check(await bundleFor(IN_TOTO_PAYLOAD_TYPE, statement, other))).toMatchObject({ rejected: { kind: 'invalid-signature' } });
    const attest = Buffer.from(statement.toString().replace('https://sigstore.dev/cosign/sign/v1', 'https://slsa.dev/provenance/v1'));
    expect(check(await bundleFor(IN_TOTO_PAYLOAD_TYPE, attest))).toMatchObject({ rejected: { kind: 'malformed', reason: 'predicate type https://slsa.dev/provenance/v1 is not a cosign signature' } });
    expect(check(await bundleFor(IN_TOTO_PAYLOAD_TYPE, signStatement({ digest: `sha256:${'2'.repeat(64)}` })))).toMatchObject({ rejected: { kind: 'digest-mismatch' } });
    for (const junk of ['', '[]', '{"mediaType":"x"}', '{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}', '{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","dsseEnvelope":{"payloadType":"x","payload":"AA==","signatures":[]}}']) {
      expect(check(junk)).toMatchObject({ ok: false, rejected: { kind: 'malformed' } });
    }
  });

  it('the error lists at most three reasons, then a count', () => {
    const outcomes = Array.from({ length: 5 }, (_, i) => ({ ok: false as const, rejected: { kind: 'invalid-signature' as const, source: `l${i}`, reason: 'bad' } }));
    expect(() => verdict('img', 5, outcomes)).toThrow('no matching signatures for img: l0: bad; l1: bad; l2: bad; and 2 more');
  });

  it('signature manifests and referrers indexes from the registry are checked and bounded', () => {
    expect(() => signatureLayers('x', 'r:t')).toThrow('r:t: not a signature manifest: not a JSON object');
    expect(() => signatureLayers({ layers: {} }, 'r:t')).toThrow('r:t: not a signature manifest: no layers');
    expect(() => signatureLayers({ layers: [{ mediaType: 'm', digest: 'd' }] }, 'r:t')).toThrow('layers[0] needs mediaType, digest and size');
    expect(() => signatureLayers({ layers: [{ mediaType: 'm', digest: 'd', size: 1, annotations: { a: 1 } }] }, 'r:t')).toThrow('layers[0].annotations["a"] is not a string');
    expect(() => signatureLayers({ layers: Array(1001).fill({ mediaType: 'm', digest: 'd', size: 1 }) }, 'r:t')).toThrow('more than 1000 layers');
    expect(() => indexManifests({ manifests: 'x' }, 'r:t')).toThrow('r:t: not a referrers index: manifests is not a list');
    expect(() => indexManifests({ manifests: Array(1001).fill({ mediaType: 'm', digest: 'd', size: 1 }) }, 'r:t')).toThrow('more than 1000 entries');
  });
});
