import { readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parsePublicKeyPem } from '../../src/sigstore/keys.js';
import { simpleSigningPayload, signStatement } from '../../src/oci/sign/payload.js';
import { pae } from '../../src/sigstore/dsse.js';
import { checkLegacyLayer, EXIT_NO_MATCHING_SIGNATURE, EXIT_NO_SIGNATURES, formatVerified, ImageVerificationError, verdict, type Outcome } from '../../src/oci/verify.js';
import { vec } from '../sigstore/helpers.js';

interface Case {
  name: string;
  public_key: string | null;
  manifest_digest: string;
  payload_base64: string;
  payload: { critical: { identity: { 'docker-reference': string } }; optional: unknown };
  annotations: Record<string, string>;
}

const DIR = vec('cosign-image-signatures');
const cases: Case[] = JSON.parse(await readFile(`${DIR}/cases.json`, 'utf8'));
const byName = (n: string): Case => cases.find((c) => c.name === n)!;
const key = async (file: string) => ({ key: parsePublicKeyPem(await readFile(`${DIR}/${file}`, 'utf8'), file), source: file });

/** The image digest (sha256 of manifest.json) and the layer as containers/image stored it (`\0sigstore-json\n{…}`). */
async function loadCase(name: string) {
  const manifest = await readFile(`${DIR}/${name}/manifest.json`);
  const raw = await readFile(`${DIR}/${name}/signature-1`);
  const prefix = Buffer.from('\0sigstore-json\n');
  expect(raw.subarray(0, prefix.length).equals(prefix)).toBe(true);
  const sig = JSON.parse(raw.subarray(prefix.length).toString('utf8')) as { mimeType: string; payload: string; annotations: Record<string, string> };
  return {
    digest: `sha256:${createHash('sha256').update(manifest).digest('hex')}`,
    layer: { mediaType: sig.mimeType, payload: Buffer.from(sig.payload, 'base64'), annotations: sig.annotations },
  };
}

async function check(name: string, keyFile: string, annotations?: Record<string, string>): Promise<Outcome> {
  const { digest, layer } = await loadCase(name);
  return checkLegacyLayer(layer, digest, `${name}/signature-1`, { key: await key(keyFile), annotations });
}

describe('cosign-made image signatures through the verification core', () => {
  it('the vector folders agree with cases.json (digest = sha256 of manifest.json, same payload and annotations)', async () => {
    for (const c of cases) {
      const { digest, layer } = await loadCase(c.name);
      expect(digest, c.name).toBe(c.manifest_digest);
      expect(layer.payload.toString('base64'), c.name).toBe(c.payload_base64);
      expect(layer.annotations, c.name).toEqual(c.annotations);
    }
  });

  it('dir-img-cosign-valid verifies with cosign.pub and prints cosign\'s SimpleContainerImage JSON', async () => {
    const o = await check('dir-img-cosign-valid', 'cosign.pub');
    expect(o.ok).toBe(true);
    const verified = verdict('img', 1, [o]);
    expect(formatVerified(verified)).toBe(
      '[{"critical":{"identity":{"docker-reference":"192.168.64.2:5000/cosign-signed-single-sample"},"image":{"docker-manifest-digest":"sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00"},"type":"cosign container image signature"},"optional":null}]',
    );
  });

  it('dir-img-cosign-valid-with-tag (skopeo-written: tag in docker-reference, creator/timestamp) verifies with cosign.pub', async () => {
    const o = await check('dir-img-cosign-valid-with-tag', 'cosign.pub');
    expect(o.ok).toBe(true);
    expect(formatVerified(verdict('img', 1, [o]))).toBe(
      '[{"critical":{"identity":{"docker-reference":"192.168.64.2:5000/skopeo-signed:tag"},"image":{"docker-manifest-digest":"sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00"},"type":"cosign container image signature"},"optional":{"creator":"containers/image 5.21.2-dev","timestamp":1657296609}}]',
    );
  });

  it('-a annotations: a string value matches; a JSON number never equals "-a k=1" (as cosign); a missing key fails', async () => {
    expect((await check('dir-img-cosign-valid-with-tag', 'cosign.pub', { creator: 'containers/image 5.21.2-dev' })).ok).toBe(true);
    const num = await check('dir-img-cosign-valid-with-tag', 'cosign.pub', { timestamp: '1657296609' });
    expect(num).toEqual({ ok: false, rejected: expect.objectContaining({ kind: 'annotations', reason: 'annotation "timestamp" is 1657296609, want "1657296609"' }) });
    const missing = await check('dir-img-cosign-valid', 'cosign.pub', { env: 'prod' });
    expect(missing).toEqual({ ok: false, rejected: expect.objectContaining({ kind: 'annotations', reason: 'annotation "env" is missing' }) });
  });

  it('dir-img-cosign-key-rekor-valid verifies with cosign2.pub (its Rekor bundle annotation is not checked), not with cosign.pub', async () => {
    expect((await check('dir-img-cosign-key-rekor-valid', 'cosign2.pub')).ok).toBe(true);
    const wrong = await check('dir-img-cosign-key-rekor-valid', 'cosign.pub');
    expect(wrong).toEqual({ ok: false, rejected: expect.objectContaining({ kind: 'invalid-signature', reason: 'the signature does not verify with cosign.pub' }) });
    expect(() => verdict('img', 1, [wrong])).toThrow(ImageVerificationError);
  });

  it('dir-img-cosign-modified-manifest: a valid signature over another digest is rejected', async () => {
    const o = await check('dir-img-cosign-modified-manifest', 'cosign.pub');
    expect(o).toEqual({
      ok: false,
      rejected: expect.objectContaining({
        kind: 'digest-mismatch',
        reason: 'the payload signs sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00, not sha256:d9dcafdb480aa7c475e91737b96925e45844213dcb0290b4a90017459121f71f',
      }),
    });
    let err: unknown;
    try {
      verdict('192.168.64.2:5000/x@sha256:d9dc', 1, [o]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ImageVerificationError);
    expect((err as ImageVerificationError).exitCode).toBe(EXIT_NO_MATCHING_SIGNATURE);
    expect((err as Error).message).toBe(
      'no matching signatures for 192.168.64.2:5000/x@sha256:d9dc: dir-img-cosign-modified-manifest/signature-1: the payload signs sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00, not sha256:d9dcafdb480aa7c475e91737b96925e45844213dcb0290b4a90017459121f71f',
    );
  });

  it('keyless (Fulcio + Rekor) and private-PKI signatures are reported as needing certificate verification', async () => {
    for (const name of ['dir-img-cosign-fulcio-rekor-valid', 'dir-img-cosign-pki-valid']) {
      for (const k of ['cosign.pub', 'cosign2.pub']) {
        const o = await check(name, k);
        expect(o, `${name} ${k}`).toEqual({
          ok: false,
          rejected: {
            kind: 'keyless',
            source: `${name}/signature-1`,
            reason: `signed with a certificate (keyless or private PKI), not with ${k}; relsign verifies key signatures only (use cosign verify --certificate-identity … --certificate-oidc-issuer …)`,
          },
        });
      }
    }
  });

  it('no signature at all is exit 10; none matching is exit 12', () => {
    expect(() => verdict('img@sha256:x', 0, [])).toThrow(expect.objectContaining({ exitCode: EXIT_NO_SIGNATURES, message: 'no signatures found for img@sha256:x' }));
  });
});

describe('payloads relsign signs', () => {
  it("are byte-identical to cosign's for the same digest and repository (every cosign-made vector with optional: null)", () => {
    const cosignMade = cases.filter((c) => c.payload.optional === null);
    expect(cosignMade.map((c) => c.name).sort()).toEqual([
      'dir-img-cosign-fulcio-rekor-valid',
      'dir-img-cosign-key-rekor-valid',
      'dir-img-cosign-modified-manifest',
      'dir-img-cosign-pki-valid',
      'dir-img-cosign-valid',
    ]);
    for (const c of cosignMade) {
      const digest = JSON.parse(Buffer.from(c.payload_base64, 'base64').toString()).critical.image['docker-manifest-digest'];
      const ours = simpleSigningPayload({ digest, dockerReference: c.payload.critical.identity['docker-reference'] });
      expect(ours.toString('base64'), c.name).toBe(c.payload_base64);
    }
  });

  it('annotations: sorted keys (by bytes, as Go maps) and Go escaping of < > & U+2028; lone surrogates become U+FFFD', () => {
    const p = simpleSigningPayload({
      digest: 'sha256:' + 'a'.repeat(64),
      dockerReference: 'r/x',
      annotations: { z: '1', a: '<b>&c', 'é': 'line\u2028sep', B: 'x\ud800y' },
    }).toString('utf8');
    expect(p).toBe(
      '{"critical":{"identity":{"docker-reference":"r/x"},"image":{"docker-manifest-digest":"sha256:' +
        'a'.repeat(64) +
        '"},"type":"cosign container image signature"},"optional":{"B":"x\uFFFDy","a":"\\u003cb\\u003e\\u0026c","z":"1","é":"line\\u2028sep"}}',
    );
  });

  it('the statement for the referrers layout is an in-toto v1 statement with one subject; PAE is DSSE v1', () => {
    const s = signStatement({ digest: 'sha256:' + 'b'.repeat(64), annotations: { env: 'prod' } }).toString();
    expect(s).toBe(
      '{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"' +
        'b'.repeat(64) +
        '"},"annotations":{"env":"prod"}}],"predicateType":"https://sigstore.dev/cosign/sign/v1","predicate":{}}',
    );
    expect(pae('application/vnd.in-toto+json', Buffer.from('hello')).toString()).toBe('DSSEv1 28 application/vnd.in-toto+json 5 hello');
  });
});
