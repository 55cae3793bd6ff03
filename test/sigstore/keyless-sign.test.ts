/**
 * `relsign sign-blob` keyless and with a key + transparency log, against
 * @sigstore/mock's Fulcio, Rekor and TSA served on loopback. Every bundle is
 * checked with @sigstore/verify and the mock's trusted root; tampered
 * artifacts, wrong identities and issuers, and a log entry for another
 * artifact are rejected. Fault tests: Rekor 502s, a Rekor that never answers.
 */
import { createPublicKey, X509Certificate } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { toSignedEntity, toTrustMaterial, Verifier, type VerificationPolicy } from '@sigstore/verify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasStackTrace, runCli } from '../helpers/cli.js';
import { DEFAULT_IDENTITY, DEFAULT_ISSUER, startSigstoreServices, type SigstoreServices } from '../helpers/sigstore-services.js';
import { Scratch } from './helpers.js';

const PASSWORD = 'tlog-key-pass-3391';
const scratch = new Scratch();
let s: SigstoreServices;
let dir: string;
let artifact: string;
let other: string;
let key: string;
let pub: string;

beforeAll(async () => {
  s = await startSigstoreServices();
  dir = await scratch.dir();
  artifact = join(dir, 'app_1.0.0_linux_amd64.tar.gz');
  other = join(dir, 'other.bin');
  await writeFile(artifact, Buffer.alloc(3_000_000, 0x42));
  await writeFile(other, 'another artifact\n');
  const gen = await runCli(['generate-key-pair'], { cwd: dir, env: { COSIGN_PASSWORD: PASSWORD } });
  expect(gen.code, gen.stderr).toBe(0);
  key = join(dir, 'cosign.key');
  pub = join(dir, 'cosign.pub');
}, 60_000);
afterAll(async () => {
  await s?.stop();
  await scratch.cleanup();
});

const services = (tsa = true) => ['--fulcio-url', s.fulcioURL, '--rekor-url', s.rekorURL, ...(tsa ? ['--timestamp-server-url', s.tsaURL] : [])];
const noAmbientToken = { SIGSTORE_ID_TOKEN: undefined, ACTIONS_ID_TOKEN_REQUEST_URL: undefined, ACTIONS_ID_TOKEN_REQUEST_TOKEN: undefined };

async function verifier(options: { key?: string; timestamps?: number } = {}): Promise<Verifier> {
  const root = TrustedRoot.fromJSON(JSON.parse(await readFile(s.trustedRootPath, 'utf8')));
  const keyObj = options.key ? createPublicKey(await readFile(options.key, 'utf8')) : undefined;
  const material = keyObj ? toTrustMaterial(root, () => ({ publicKey: keyObj, validFor: () => true })) : toTrustMaterial(root);
  return new Verifier(material, { tlogThreshold: 1, ctlogThreshold: keyObj ? 0 : 1, timestampThreshold: options.timestamps ?? 1 });
}

async function verifyBundle(bundlePath: string, file: string, v: Verifier, policy?: VerificationPolicy) {
  const json = JSON.parse(await readFile(bundlePath, 'utf8'));
  return v.verify(toSignedEntity(bundleFromJSON(json), await readFile(file)), policy);
}

describe('keyless sign-blob', () => {
  it('Fulcio certificate + Rekor entry + TSA timestamp → a v0.3 bundle that verifies with the identity and issuer; .sig and certificate as asked', async () => {
    const bundle = join(dir, 'app.sigstore.json');
    const cert = join(dir, 'app.pem');
    const sig = join(dir, 'app.sig');
    const token = s.makeIdToken();
    const r = await runCli(
      ['sign-blob', '--yes', ...services(), '--new-bundle-format', '--bundle', bundle, '--output-signature', sig, '--output-certificate', cert, '--b64=false', artifact],
      { env: { ...noAmbientToken, SIGSTORE_ID_TOKEN: token } },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).not.toContain(token);
    expect(r.stderr).toMatch(/^Note: your identity .* will be recorded in the public transparency log http:\/\/127\.0\.0\.1:\d+\./);
    expect(r.stderr).toMatch(/tlog entry created with index: \d+/);

    const json = JSON.parse(await readFile(bundle, 'utf8'));
    expect(json.mediaType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
    expect(Object.keys(json.verificationMaterial)).toEqual(['certificate', 'tlogEntries', 'timestampVerificationData']);
    expect(json.verificationMaterial.tlogEntries[0].kindVersion).toEqual({ kind: 'hashedrekord', version: '0.0.1' });

    const signer = await verifyBundle(bundle, artifact, await verifier(), { subjectAlternativeName: DEFAULT_IDENTITY, extensions: { issuer: DEFAULT_ISSUER } });
    expect(signer.identity?.subjectAlternativeName).toBe(DEFAULT_IDENTITY);

    // --b64=false: the certificate is PEM, the same leaf as in the bundle; the .sig is raw DER.
    const pem = await readFile(cert, 'utf8');
    const x = new X509Certificate(pem);
    expect(x.raw.toString('base64')).toBe(json.verificationMaterial.certificate.rawBytes);
    expect(x.subjectAltName).toBe(`URI:${DEFAULT_IDENTITY}`);
    expect((await readFile(sig)).toString('base64')).toBe(json.messageSignature.signature);
  });

  it('rejects: a tampered artifact, a wrong identity, a wrong issuer, and a log entry for another artifact', async () => {
    const token = s.makeIdToken();
    const a = join(dir, 'a.sigstore.json');
    const b = join(dir, 'b.sigstore.json');
    for (const [file, out] of [[artifact, a], [other, b]] as const) {
      const r = await runCli(['sign-blob', '--yes', ...services(false), '--new-bundle-format', '--bundle', out, file], { env: { ...noAmbientToken, SIGSTORE_ID_TOKEN: token } });
      expect(r.code, r.stderr).toBe(0);
    }
    const v = await verifier({ timestamps: 0 });
    await expect(verifyBundle(a, artifact, v, { subjectAlternativeName: DEFAULT_IDENTITY, extensions: { issuer: DEFAULT_ISSUER } })).resolves.toBeTruthy();

    const tampered = join(dir, 'tampered.bin');
    const bytes = await readFile(artifact);
    bytes[1000] ^= 1;
    await writeFile(tampered, bytes);
    await expect(verifyBundle(a, tampered, v)).rejects.toThrow();
    await expect(verifyBundle(a, artifact, v, { subjectAlternativeName: 'https://github.com/evil/repo/.github/workflows/release.yml@refs/tags/v1.0.0' })).rejects.toThrow(
      /identity|subject|SAN|mismatch/i,
    );
    await expect(verifyBundle(a, artifact, v, { subjectAlternativeName: DEFAULT_IDENTITY, extensions: { issuer: 'https://gitlab.com' } })).rejects.toThrow(/issuer|extension|mismatch/i);

    // a's signature and certificate with b's log entry: the entry is for another artifact.
    const ja = JSON.parse(await readFile(a, 'utf8'));
    const jb = JSON.parse(await readFile(b, 'utf8'));
    ja.verificationMaterial.tlogEntries = jb.verificationMaterial.tlogEntries;
    const swapped = join(dir, 'swapped.sigstore.json');
    await writeFile(swapped, JSON.stringify(ja));
    await expect(verifyBundle(swapped, artifact, v)).rejects.toThrow();
  });

  it('a GitHub Actions runner: the token comes from ACTIONS_ID_TOKEN_REQUEST_URL with audience sigstore and the request token', async () => {
    const http = await import('node:http');
    const seen: Array<{ url?: string; auth?: string }> = [];
    let failures = 1; // one transient failure, then the token
    const server = http.createServer((req, res) => {
      seen.push({ url: req.url, auth: req.headers.authorization });
      if (failures-- > 0) {
        res.writeHead(503).end('busy');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ value: s.makeIdToken() }));
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const port = (server.address() as { port: number }).port;
    try {
      const out = join(dir, 'gha.sigstore.json');
      const r = await runCli(['sign-blob', '--yes', ...services(false), '--new-bundle-format', '--bundle', out, other], {
        env: { ...noAmbientToken, ACTIONS_ID_TOKEN_REQUEST_URL: `http://127.0.0.1:${port}/token?api-version=2.0`, ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'request-secret-8812' },
      });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).not.toContain('request-secret-8812');
      expect(seen).toHaveLength(2);
      expect(seen[1]!.url).toBe('/token?api-version=2.0&audience=sigstore');
      expect(seen[1]!.auth).toBe('bearer request-secret-8812');
      await expect(verifyBundle(out, other, await verifier({ timestamps: 0 }), { subjectAlternativeName: DEFAULT_IDENTITY })).resolves.toBeTruthy();
    } finally {
      server.close();
    }
  });

  it('token errors are one line and never show the token', async () => {
    const foreign = s.makeForeignIdToken();
    const r = await runCli(['sign-blob', '--yes', ...services(false), other], { env: { ...noAmbientToken, SIGSTORE_ID_TOKEN: foreign } });
    expect(r.code).toBe(1);
    const last = r.stderr.trim().split('\n').pop()!;
    expect(last).toMatch(new RegExp(`^relsign: Fulcio ${s.fulcioURL.replace(/[.]/g, '\\.')}: HTTP 401 .*certificate refused; check the identity token`));
    expect(r.stderr).not.toContain(foreign);
    expect(hasStackTrace(r.stderr)).toBe(false);

    const notJwt = await runCli(['sign-blob', '--yes', ...services(false), other], { env: { ...noAmbientToken, SIGSTORE_ID_TOKEN: 'not-a-jwt-secret-value' } });
    expect(notJwt.stderr.trim()).toBe('relsign: identity token from SIGSTORE_ID_TOKEN is not a JWT (want header.payload.signature)');
    const half = await runCli(['sign-blob', '--yes', other], { env: { ...noAmbientToken, ACTIONS_ID_TOKEN_REQUEST_URL: 'http://127.0.0.1:1/x' } });
    expect(half.stderr.trim()).toMatch(/only one of ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN is set; give the GitHub Actions job "permissions: id-token: write"/);
    const noTlog = await runCli(['sign-blob', '--yes', '--tlog-upload=false', other], { env: noAmbientToken });
    expect(noTlog).toMatchObject({ code: 2, stderr: 'relsign: sign-blob: keyless signing always records the signature in the transparency log; --tlog-upload=false needs --key' });
  });
});

describe('key + transparency log', () => {
  it('the hashedrekord entry is in the bundle (v0.3 and legacy rekorBundle); @sigstore/verify checks it with the key', async () => {
    const v03 = join(dir, 'key.sigstore.json');
    const legacy = join(dir, 'key.bundle');
    const r1 = await runCli(['sign-blob', '--yes', '--key', key, '--rekor-url', s.rekorURL, '--new-bundle-format', '--bundle', v03, artifact], { env: { COSIGN_PASSWORD: PASSWORD } });
    expect(r1.code, r1.stderr).toBe(0);
    expect(r1.stderr).toMatch(/^Note: the public key and the signature will be recorded in the public transparency log/);
    const json = JSON.parse(await readFile(v03, 'utf8'));
    expect(json.verificationMaterial.publicKey.hint).toBeTruthy();
    expect(json.verificationMaterial.tlogEntries).toHaveLength(1);
    const body = JSON.parse(Buffer.from(json.verificationMaterial.tlogEntries[0].canonicalizedBody, 'base64').toString());
    expect(body.kind).toBe('hashedrekord');
    expect(Buffer.from(body.spec.signature.publicKey.content, 'base64').toString()).toBe(await readFile(pub, 'utf8'));
    expect(Buffer.from(body.spec.data.hash.value, 'hex').toString('base64')).toBe(json.messageSignature.messageDigest.digest);
    await expect(verifyBundle(v03, artifact, await verifier({ key: pub, timestamps: 0 }))).resolves.toBeTruthy();
    await expect(verifyBundle(v03, other, await verifier({ key: pub, timestamps: 0 }))).rejects.toThrow();

    const r2 = await runCli(['sign-blob', '--yes', '--key', key, '--rekor-url', s.rekorURL, '--bundle', legacy, artifact], { env: { COSIGN_PASSWORD: PASSWORD } });
    expect(r2.code, r2.stderr).toBe(0);
    const lb = JSON.parse(await readFile(legacy, 'utf8'));
    expect(Object.keys(lb)).toEqual(['base64Signature', 'cert', 'rekorBundle']);
    expect(Object.keys(lb.rekorBundle.Payload)).toEqual(['body', 'integratedTime', 'logIndex', 'logID']);
    expect(lb.rekorBundle.Payload.logID).toMatch(/^[0-9a-f]{64}$/);
    // Deterministic signatures: the same signature as the v0.3 bundle's.
    expect(lb.base64Signature).toBe(json.messageSignature.signature);
  });
});

describe('resilience', () => {
  it('a Rekor that answers 502 twice, then succeeds: the signature is recorded after retries', async () => {
    s.fault('rekor', { status: 502, times: 2 });
    const before = s.requests.rekor;
    const out = join(dir, 'retry.sigstore.json');
    const r = await runCli(['sign-blob', '--yes', '--key', key, '--rekor-url', s.rekorURL, '--new-bundle-format', '--bundle', out, other], { env: { COSIGN_PASSWORD: PASSWORD } });
    s.fault('rekor', null);
    expect(r.code, r.stderr).toBe(0);
    expect(s.requests.rekor - before).toBe(3);
    await expect(verifyBundle(out, other, await verifier({ key: pub, timestamps: 0 }))).resolves.toBeTruthy();
  });

  it('a Rekor that keeps failing, or never answers: a one-line error naming Rekor and its URL, and no bundle written', async () => {
    s.fault('rekor', { status: 503 });
    const out = join(dir, 'down.sigstore.json');
    const down = await runCli(['sign-blob', '--yes', '--key', key, '--rekor-url', s.rekorURL, '--new-bundle-format', '--bundle', out, other], { env: { COSIGN_PASSWORD: PASSWORD } });
    expect(down.code).toBe(1);
    expect(down.stderr.trim().split('\n').pop()).toBe(`relsign: Rekor ${s.rekorURL}: HTTP 503 Service Unavailable (4 attempts)`);

    s.fault('rekor', { hang: true });
    const hang = await runCli(['sign-blob', '--yes', '--key', key, '--rekor-url', s.rekorURL, '--timeout', '1s', '--new-bundle-format', '--bundle', out, other], {
      env: { COSIGN_PASSWORD: PASSWORD },
    });
    s.fault('rekor', null);
    expect(hang.code).toBe(1);
    expect(hang.stderr.trim().split('\n').pop()).toBe(`relsign: Rekor ${s.rekorURL}: no answer within 1s (4 attempts)`);
    expect(hasStackTrace(hang.stderr)).toBe(false);
    await expect(readFile(out)).rejects.toThrow(/ENOENT/);
  }, 60_000);
});
