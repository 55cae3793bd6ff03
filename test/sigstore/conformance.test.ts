/**
 * The Sigstore conformance suite's `bundle-verify` cases (all 70), verified by
 * relsign as `relsign verify-blob --bundle … --trusted-root …` does (the same
 * verifyBlob call the CLI makes; a handful also through the CLI):
 * - certificate-signed cases with the suite's default identity and issuer (or
 *   the case's `identity` / `issuer` files), keyless;
 * - cases with a `key.pub` (managed keys) with that key; `managed-key-no-key_fail`
 *   with no key at all (so it is tried keylessly and must fail);
 * - the case's `trusted_root.json`, else the public-good root stored beside the
 *   vectors.
 * Every case must give its expected result; no `_fail` case may verify. Key-only
 * mode (--insecure-ignore-tlog) is exercised on the managed-key cases too.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { hasStackTrace, runCli } from '../helpers/cli.js';
import { verifyBlob } from '../../src/sigstore/index.js';
import { compileIdentityPolicy } from '../../src/sigstore/certificate-identity.js';
import { vec } from './helpers.js';

const SUITE = vec('sigstore-conformance', 'bundle-verify');
const PUBLIC_GOOD = vec('sigstore-conformance', 'public-good-trusted_root.json');

const all = await readdir(SUITE, { withFileTypes: true });
const everyCase = all.filter((d) => d.isDirectory()).map((d) => d.name).sort();
const DEFAULT_IDENTITY =
  'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main';
const DEFAULT_ISSUER = 'https://token.actions.githubusercontent.com';
const cases = all
  .filter((d) => d.isDirectory() && (d.name.startsWith('managed-key-') || existsSync(join(SUITE, d.name, 'key.pub'))))
  .map((d) => d.name)
  .sort();

async function load(name: string) {
  const dir = join(SUITE, name);
  const artifact = existsSync(join(dir, 'artifact')) ? join(dir, 'artifact') : join(SUITE, 'a.txt');
  const key = existsSync(join(dir, 'key.pub')) ? await readFile(join(dir, 'key.pub'), 'utf8') : undefined;
  const rootFile = existsSync(join(dir, 'trusted_root.json')) ? join(dir, 'trusted_root.json') : PUBLIC_GOOD;
  const opt = async (f: string): Promise<string | undefined> => (existsSync(join(dir, f)) ? (await readFile(join(dir, f), 'utf8')).trim() : undefined);
  return {
    dir,
    artifact,
    rootFile,
    identity: (await opt('identity')) ?? DEFAULT_IDENTITY,
    issuer: (await opt('issuer')) ?? DEFAULT_ISSUER,
    key,
    bundle: await readFile(join(dir, 'bundle.sigstore.json'), 'utf8'),
    trustedRoot: JSON.parse(await readFile(rootFile, 'utf8')) as unknown,
  };
}

/** Verifies one case as `relsign verify-blob --bundle … --trusted-root …` would; resolves to the error message or 'ok'. */
async function verdictOf(name: string): Promise<string> {
  const c = await load(name);
  try {
    await verifyBlob(c.artifact, {
      publicKey: c.key,
      keySource: 'key.pub',
      identity: c.key ? undefined : compileIdentityPolicy({ identity: c.identity, issuer: c.issuer }),
      bundle: c.bundle,
      bundleSource: 'bundle.sigstore.json',
      trustedRoot: c.trustedRoot,
      trustedRootSource: 'trusted_root.json',
    });
    return 'ok';
  } catch (err) {
    return (err as Error).message;
  }
}

describe('sigstore-conformance bundle-verify: all cases', () => {
  it('has the 70 cases of the suite', () => {
    expect(everyCase).toHaveLength(70);
    expect(everyCase.filter((n) => n.endsWith('_fail'))).toHaveLength(49);
  });

  it.each(everyCase)('%s', async (name) => {
    const got = await verdictOf(name);
    if (name.endsWith('_fail')) {
      expect(got).not.toBe('ok');
      expect(got.split('\n')).toHaveLength(1);
    } else {
      expect(got).toBe('ok');
    }
  });

  // The failures say which check failed.
  it.each([
    ['intoto-expired-certificate_fail', /^the certificate was not valid at the transparency log's integrated time 2023-02-01T00:00:00\.000Z \(valid 2030-/],
    ['intoto-tsa-timestamp-outside-cert-validity_fail', /^the certificate was not valid at the RFC 3161 timestamp /],
    ['invalid-ct-key_fail', /^the certificate's SCT does not verify against the trusted root's CT logs$/],
    ['inclusion-proof-corrupted-hash_fail', /^the transparency-log inclusion proof does not check: calculated root hash does not match/],
    ['set-invalid-signature_fail', /signed entry timestamp \(SET\) does not verify/],
    ['wrong-hashedrekord-entry_fail', /^the transparency-log entry is for another artifact or signature/],
    ['bundle-with-root-cert_fail', /certificate chain includes a root certificate/],
    ['trust-root-tlog-missing-validity-start_fail', /^trusted root trusted_root\.json: tlogs\[1\]\.publicKey\.validFor\.start is missing$/],
    ['rekor2-timestamp-untrusted-tsa-without-embedded-cert_fail', /^no trusted time for the signature: its RFC 3161 timestamp does not verify/],
    ['message-digest-mismatch_fail', /^bundle digest mismatch: /],
  ])('%s fails naming the check', async (name, message) => {
    expect(await verdictOf(name)).toMatch(message);
  });

  it('the identity policy is enforced on a happy-path case: wrong identity, wrong issuer, regexps (Go RE2, unanchored)', async () => {
    const c = await load('happy-path-v0.3');
    const run = (p: Parameters<typeof compileIdentityPolicy>[0]) =>
      verifyBlob(c.artifact, { identity: compileIdentityPolicy(p), bundle: c.bundle, trustedRoot: c.trustedRoot });
    await expect(run({ identity: c.identity, issuer: c.issuer })).resolves.toMatchObject({ signer: { subjectAlternativeNames: [c.identity], issuer: c.issuer } });
    await expect(run({ identity: `${c.identity}x`, issuer: c.issuer })).rejects.toThrow(/^wrong certificate identity: the certificate names "https:\/\/github\.com\/sigstore-conformance\/.*", want /);
    await expect(run({ identity: c.identity, issuer: 'https://accounts.google.com' })).rejects.toThrow(
      'wrong certificate OIDC issuer: the certificate names "https://token.actions.githubusercontent.com", want "https://accounts.google.com"',
    );
    // Unanchored, as Go's regexp.MatchString: a fragment matches; anchors make it exact.
    await expect(run({ identityRegexp: 'extremely-dangerous', issuerRegexp: 'githubusercontent' })).resolves.toBeDefined();
    await expect(run({ identityRegexp: '^extremely-dangerous', issuer: c.issuer })).rejects.toThrow(/does not match|want one matching regexp/);
    await expect(run({ identityRegexp: '^https://github\\.com/sigstore-conformance/.*@refs/heads/main$', issuerRegexp: '^https://token\\.actions\\.githubusercontent\\.com$' })).resolves.toBeDefined();
    await expect(run({ identity: c.identity, issuerRegexp: '^https://gitlab\\.com$' })).rejects.toThrow(/^wrong certificate OIDC issuer: .* does not match regexp "\^https:\/\/gitlab\\\\.com\$"$/);
    // Both forms given: both must hold.
    await expect(run({ identity: c.identity, identityRegexp: 'gitlab', issuer: c.issuer })).rejects.toThrow(/^wrong certificate identity/);
  });

  it('through the CLI: exit codes and one-line messages', async () => {
    const cli = async (name: string, extra: string[] = []) => {
      const c = await load(name);
      const args = ['verify-blob', '--bundle', join(c.dir, 'bundle.sigstore.json'), '--trusted-root', c.rootFile];
      if (c.key) args.push('--key', join(c.dir, 'key.pub'));
      else args.push('--certificate-identity', c.identity, '--certificate-oidc-issuer', c.issuer);
      return runCli([...args, ...extra, c.artifact]);
    };
    for (const name of ['happy-path-v0.3', 'rekor2-dsse-happy-path', 'managed-key-happy-path', 'trust-root-tlog-validity-end-inclusive']) {
      const r = await cli(name);
      expect(r, name).toMatchObject({ code: 0, stderr: 'Verified OK' });
    }
    for (const name of ['intoto-expired-certificate_fail', 'invalid-ct-key_fail', 'wrong-hashedrekord-artifact_fail', 'trust-root-tlog-missing-validity-start_fail']) {
      const r = await cli(name);
      expect(r.code, `${name}: ${r.stderr}`).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^relsign: /);
      expect(hasStackTrace(r.stderr)).toBe(false);
    }
    const c = await load('happy-path-v0.3');
    const base = ['verify-blob', '--bundle', join(c.dir, 'bundle.sigstore.json'), '--trusted-root', c.rootFile];
    const noIssuer = await runCli([...base, '--certificate-identity', c.identity, c.artifact]);
    expect(noIssuer).toMatchObject({ code: 2, stderr: 'relsign: --certificate-oidc-issuer or --certificate-oidc-issuer-regexp is required for verification in keyless mode' });
    const noIdentity = await runCli([...base, c.artifact]);
    expect(noIdentity.stderr).toBe('relsign: --certificate-identity or --certificate-identity-regexp is required for verification in keyless mode');
    const badRe = await runCli([...base, '--certificate-identity-regexp', '(a', '--certificate-oidc-issuer', c.issuer, c.artifact]);
    expect(badRe.code).toBe(2);
    expect(badRe.stderr).toMatch(/^relsign: --certificate-identity-regexp: error parsing regexp: missing closing \)/);
    const wrongIssuer = await runCli([...base, '--certificate-identity', c.identity, '--certificate-oidc-issuer', 'https://gitlab.com', c.artifact]);
    expect(wrongIssuer).toMatchObject({ code: 1, stderr: 'relsign: wrong certificate OIDC issuer: the certificate names "https://token.actions.githubusercontent.com", want "https://gitlab.com"' });
    const withKey = await runCli(['verify-blob', '--bundle', join(c.dir, 'bundle.sigstore.json'), '--trusted-root', c.rootFile, '--key', join(SUITE, 'managed-key-happy-path', 'key.pub'), c.artifact]);
    expect(withKey).toMatchObject({
      code: 1,
      stderr: `relsign: the bundle ${join(c.dir, 'bundle.sigstore.json')} is signed with a certificate, not with key.pub: verify it with --certificate-identity and --certificate-oidc-issuer`,
    });
    const both = await runCli([...base, '--key', join(SUITE, 'managed-key-happy-path', 'key.pub'), '--certificate-identity', c.identity, c.artifact]);
    expect(both).toMatchObject({ code: 2, stderr: 'relsign: verify-blob: use either --key or the --certificate-* flags (keyless), not both' });
  });
});

describe('sigstore-conformance bundle-verify, managed-key cases', () => {
  it('finds the four managed-key cases', () => {
    expect(cases).toEqual(['managed-key-and-trusted-root', 'managed-key-happy-path', 'managed-key-no-key_fail', 'managed-key-wrong-key_fail']);
  });

  it.each(cases)('%s (key only, --insecure-ignore-tlog)', async (name) => {
    const c = await load(name);
    const shouldFail = name.endsWith('_fail');
    if (!c.key) {
      // "bundle is signed with key but no key is provided": tried keylessly, it has no certificate.
      expect(shouldFail).toBe(true);
      const r = await runCli([
        'verify-blob', '--bundle', join(c.dir, 'bundle.sigstore.json'), '--insecure-ignore-tlog',
        '--certificate-identity', c.identity, '--certificate-oidc-issuer', c.issuer, '--trusted-root', c.rootFile, c.artifact,
      ]);
      expect(r.code).toBe(1);
      expect(r.stderr.trim()).toBe('relsign: the bundle ' + join(c.dir, 'bundle.sigstore.json') + ' is signed with a public key, not a certificate: verify it with --key');
      return;
    }
    const run = verifyBlob(c.artifact, { publicKey: c.key, keySource: 'key.pub', bundle: c.bundle, ignoreTlog: true });
    if (shouldFail) await expect(run).rejects.toThrow(/^key\.pub: /);
    else await expect(run).resolves.toMatchObject({ format: 'sigstore-bundle', tlogVerified: false });
  });

  it.each(cases.filter((n) => n !== 'managed-key-no-key_fail'))('%s (full: tlog + timestamps against the trusted root)', async (name) => {
    const c = await load(name);
    const run = verifyBlob(c.artifact, { publicKey: c.key!, keySource: 'key.pub', bundle: c.bundle, trustedRoot: c.trustedRoot });
    if (name.endsWith('_fail')) await expect(run).rejects.toThrow();
    else await expect(run).resolves.toMatchObject({ tlogVerified: true });
  });

  it('managed-key-happy-path: its RFC 3161 timestamp is from a TSA the stored public-good root does not list, so it does not count; the Rekor entry gives the time', async () => {
    const c = await load('managed-key-happy-path');
    const b = JSON.parse(c.bundle) as { verificationMaterial: Record<string, unknown> };
    expect(b.verificationMaterial.timestampVerificationData).toBeDefined();
    await expect(verifyBlob(c.artifact, { publicKey: c.key!, bundle: b, trustedRoot: c.trustedRoot })).resolves.toMatchObject({ tlogVerified: true });
    delete b.verificationMaterial.timestampVerificationData;
    await expect(verifyBlob(c.artifact, { publicKey: c.key!, bundle: b, trustedRoot: c.trustedRoot })).resolves.toMatchObject({ tlogVerified: true });
    // …and the same entry is refused by a root that does not list rekor.sigstore.dev.
    const other = (await load('managed-key-and-trusted-root')).trustedRoot;
    await expect(verifyBlob(c.artifact, { publicKey: c.key!, bundle: b, trustedRoot: other })).rejects.toThrow(/signed entry timestamp \(SET\) does not verify/);
  });

  it('full mode notices a tampered Rekor entry even though the key signature is fine', async () => {
    const c = await load('managed-key-and-trusted-root');
    const b = JSON.parse(c.bundle) as { verificationMaterial: { tlogEntries: { inclusionProof: { hashes: string[] } }[] } };
    const h = Buffer.from(b.verificationMaterial.tlogEntries[0]!.inclusionProof.hashes[0]!, 'base64');
    h[0]! ^= 1;
    b.verificationMaterial.tlogEntries[0]!.inclusionProof.hashes[0] = h.toString('base64');
    await expect(verifyBlob(c.artifact, { publicKey: c.key!, bundle: b, ignoreTlog: true })).resolves.toBeDefined();
    await expect(verifyBlob(c.artifact, { publicKey: c.key!, bundle: b, trustedRoot: c.trustedRoot })).rejects.toThrow(/^the transparency-log inclusion proof does not check/);
  });

  it('the CLI agrees (exit 0 / 1, one line, no stack)', async () => {
    for (const name of cases.filter((n) => n !== 'managed-key-no-key_fail')) {
      const dir = join(SUITE, name);
      const r = await runCli(['verify-blob', '--key', join(dir, 'key.pub'), '--bundle', join(dir, 'bundle.sigstore.json'), '--insecure-ignore-tlog', join(SUITE, 'a.txt')]);
      expect(r.code, `${name}: ${r.stderr}`).toBe(name.endsWith('_fail') ? 1 : 0);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(hasStackTrace(r.stderr)).toBe(false);
      if (!name.endsWith('_fail')) expect(r.stderr).toBe('Verified OK');
      else expect(r.stderr).toMatch(/^relsign: key\.pub: invalid public key/);
    }
    const dir = join(SUITE, 'managed-key-and-trusted-root');
    const full = await runCli(['verify-blob', '--key', join(dir, 'key.pub'), '--bundle', join(dir, 'bundle.sigstore.json'), '--trusted-root', join(dir, 'trusted_root.json'), join(SUITE, 'a.txt')]);
    expect(full).toMatchObject({ code: 0, stderr: 'Verified OK' });
    const noRoot = await runCli(['verify-blob', '--key', join(dir, 'key.pub'), '--bundle', join(dir, 'bundle.sigstore.json'), join(SUITE, 'a.txt')]);
    expect(noRoot.code).toBe(1);
    // Without --trusted-root the public-good root comes through TUF; tests point the mirror at a closed loopback port.
    expect(noRoot.stderr).toMatch(/^relsign: cannot get the Sigstore trusted root from the TUF repository http:\/\/127\.0\.0\.1:9 .*; pass --trusted-root trusted_root\.json to verify offline$/);
  });
});

describe("cosign's legacy bundle with a Rekor SET (containers/image fixture dir-img-cosign-key-rekor-valid)", () => {
  it('verifies offline against the public-good root; a corrupted SET or wrong payload is refused', async () => {
    const cases = JSON.parse(await readFile(vec('cosign-image-signatures', 'cases.json'), 'utf8')) as {
      name: string;
      payload_base64: string;
      annotations: Record<string, string>;
    }[];
    const c = cases.find((x) => x.name === 'dir-img-cosign-key-rekor-valid')!;
    const payload = Buffer.from(c.payload_base64, 'base64');
    const legacy = {
      base64Signature: c.annotations['dev.cosignproject.cosign/signature'],
      rekorBundle: JSON.parse(c.annotations['dev.sigstore.cosign/bundle']!) as { SignedEntryTimestamp: string },
    };
    const publicKey = await readFile(vec('cosign-image-signatures', 'cosign2.pub'), 'utf8');
    const trustedRoot = JSON.parse(await readFile(PUBLIC_GOOD, 'utf8')) as unknown;
    await expect(verifyBlob(payload, { publicKey, bundle: legacy, trustedRoot })).resolves.toMatchObject({ format: 'legacy-bundle', tlogVerified: true });
    const badSet = Buffer.from(legacy.rekorBundle.SignedEntryTimestamp, 'base64');
    badSet[10]! ^= 1;
    const tampered = { ...legacy, rekorBundle: { ...legacy.rekorBundle, SignedEntryTimestamp: badSet.toString('base64') } };
    await expect(verifyBlob(payload, { publicKey, bundle: tampered, trustedRoot })).rejects.toThrow(/signed entry timestamp \(SET\) does not verify/);
    await expect(verifyBlob(payload, { publicKey, bundle: tampered, ignoreTlog: true })).resolves.toBeDefined();
    const otherPayload = Buffer.from(payload.toString('utf8').replace('sha256:', 'sha256:0'));
    await expect(verifyBlob(otherPayload, { publicKey, bundle: legacy, trustedRoot })).rejects.toThrow(/^invalid signature: /);
  });
});

/**
 * Keyless `_fail` cases checked with --key: the key is the signing certificate's
 * own public key (taken out with openssl), so every check except the bad part
 * would pass — the rejection must come from the signature or digest itself.
 */
describe('sigstore-conformance _fail cases with --key (the key of the bundle\'s own signing certificate)', () => {
  async function certKey(name: string, scratch: string): Promise<string> {
    const b = JSON.parse(await readFile(join(SUITE, name, 'bundle.sigstore.json'), 'utf8')) as {
      verificationMaterial: { certificate?: { rawBytes: string }; x509CertificateChain?: { certificates: { rawBytes: string }[] } };
    };
    const vm = b.verificationMaterial;
    const der = Buffer.from(vm.certificate?.rawBytes ?? vm.x509CertificateChain!.certificates[0]!.rawBytes, 'base64');
    const certFile = join(scratch, `${name}.crt`);
    await writeFile(certFile, der);
    const pub = join(scratch, `${name}.pub`);
    await execa('openssl', ['x509', '-inform', 'DER', '-in', certFile, '-pubkey', '-noout', '-out', pub]);
    return pub;
  }

  /**
   * The case's bundle with its certificate swapped for a public-key reference:
   * the same signature and digest, verified as a key-signed bundle (a bundle
   * that carries a certificate must be verified keylessly).
   */
  async function keyBundle(name: string, scratch: string): Promise<string> {
    const b = JSON.parse(await readFile(join(SUITE, name, 'bundle.sigstore.json'), 'utf8')) as Record<string, unknown>;
    b.verificationMaterial = { publicKey: { hint: '' }, tlogEntries: [] };
    const out = join(scratch, `${name}.key-bundle.json`);
    await writeFile(out, JSON.stringify(b));
    return out;
  }

  it('happy-path-v0.3 verifies with its certificate key (the method is sound); signature-mismatch_fail is rejected as an invalid signature', async () => {
    const scratch = await mkdtemp(join(tmpdir(), 'relsign-conf-'));
    try {
      const a = join(SUITE, 'a.txt');
      const okKey = await certKey('happy-path-v0.3', scratch);
      const ok = await runCli(['verify-blob', '--key', okKey, '--bundle', await keyBundle('happy-path-v0.3', scratch), '--insecure-ignore-tlog', a]);
      expect(ok.code, ok.stderr).toBe(0);

      const badKey = await certKey('signature-mismatch_fail', scratch);
      const bad = await runCli(['verify-blob', '--key', badKey, '--bundle', await keyBundle('signature-mismatch_fail', scratch), '--insecure-ignore-tlog', a]);
      expect(bad.code).toBe(1);
      expect(bad.stderr.trim()).toMatch(/^relsign: invalid signature: the bundle's signature does not verify with signature-mismatch_fail\.pub$/);
      expect(hasStackTrace(bad.stderr)).toBe(false);
      // The library says why, by reason.
      await expect(
        verifyBlob(a, { publicKey: await readFile(badKey, 'utf8'), bundle: await readFile(await keyBundle('signature-mismatch_fail', scratch), 'utf8'), ignoreTlog: true }),
      ).rejects.toMatchObject({ reason: 'invalid-signature' });
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  });

  it.each(['wrong-material_fail', 'message-digest-mismatch_fail'])('%s is rejected (the signed digest is not the artifact\'s)', async (name) => {
    const scratch = await mkdtemp(join(tmpdir(), 'relsign-conf-'));
    try {
      const key = await certKey(name, scratch);
      const artifact = existsSync(join(SUITE, name, 'artifact')) ? join(SUITE, name, 'artifact') : join(SUITE, 'a.txt');
      const r = await runCli(['verify-blob', '--key', key, '--bundle', await keyBundle(name, scratch), '--insecure-ignore-tlog', artifact]);
      expect(r.code).toBe(1);
      expect(r.stderr.trim()).toMatch(/^relsign: bundle digest mismatch: .* has sha256 [0-9a-f]{64}, the bundle signed [0-9a-f]{64}$/);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  });
});
