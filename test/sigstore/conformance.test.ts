/**
 * sigstore-conformance `bundle-verify` cases that use a managed key (folders
 * `managed-key-*`, plus any other folder with a `key.pub`), verified by relsign.
 *
 * Two modes, both exercised:
 * - key only (`ignoreTlog`, cosign's --insecure-ignore-tlog): the bundle's message
 *   signature and digest are checked against key.pub over a.txt;
 * - full: additionally the Rekor entry (SET, inclusion proof, checkpoint) and any
 *   RFC 3161 timestamps, offline, against the case's trusted_root.json or the
 *   public-good root stored beside the vectors.
 *
 * One known gap, asserted rather than skipped: `managed-key-happy-path` carries an
 * RFC 3161 timestamp from the public-good TSA, but the public-good trusted root
 * stored with the vectors (cosign's testdata copy) lists no timestamp authority,
 * so the full check fails with "timestamp could not be verified" — as
 * @sigstore/verify does with that root. Its Rekor entry alone does verify
 * (checked below with the timestamp removed).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { hasStackTrace, runCli } from '../helpers/cli.js';
import { verifyBlob } from '../../src/sigstore/index.js';
import { vec } from './helpers.js';

const SUITE = vec('sigstore-conformance', 'bundle-verify');
const PUBLIC_GOOD = vec('sigstore-conformance', 'public-good-trusted_root.json');

const all = await readdir(SUITE, { withFileTypes: true });
const cases = all
  .filter((d) => d.isDirectory() && (d.name.startsWith('managed-key-') || existsSync(join(SUITE, d.name, 'key.pub'))))
  .map((d) => d.name)
  .sort();

async function load(name: string) {
  const dir = join(SUITE, name);
  const artifact = existsSync(join(dir, 'artifact')) ? join(dir, 'artifact') : join(SUITE, 'a.txt');
  const key = existsSync(join(dir, 'key.pub')) ? await readFile(join(dir, 'key.pub'), 'utf8') : undefined;
  const rootFile = existsSync(join(dir, 'trusted_root.json')) ? join(dir, 'trusted_root.json') : PUBLIC_GOOD;
  return {
    dir,
    artifact,
    key,
    bundle: await readFile(join(dir, 'bundle.sigstore.json'), 'utf8'),
    trustedRoot: JSON.parse(await readFile(rootFile, 'utf8')) as unknown,
  };
}

describe('sigstore-conformance bundle-verify, managed-key cases', () => {
  it('finds the four managed-key cases', () => {
    expect(cases).toEqual(['managed-key-and-trusted-root', 'managed-key-happy-path', 'managed-key-no-key_fail', 'managed-key-wrong-key_fail']);
  });

  it.each(cases)('%s (key only, --insecure-ignore-tlog)', async (name) => {
    const c = await load(name);
    const shouldFail = name.endsWith('_fail');
    if (!c.key) {
      // "bundle is signed with key but no key is provided": relsign requires --key.
      expect(shouldFail).toBe(true);
      const r = await runCli(['verify-blob', '--bundle', join(c.dir, 'bundle.sigstore.json'), '--insecure-ignore-tlog', c.artifact]);
      expect(r.code).toBe(2);
      expect(r.stderr.trim()).toBe('relsign: verify-blob: --key is required (keyless verification is not supported yet)');
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
    else if (name === 'managed-key-happy-path') await expect(run).rejects.toThrow('transparency-log verification failed: timestamp could not be verified');
    else await expect(run).resolves.toMatchObject({ tlogVerified: true });
  });

  it('managed-key-happy-path: its Rekor entry verifies against the public-good root (RFC 3161 timestamp removed)', async () => {
    const c = await load('managed-key-happy-path');
    const b = JSON.parse(c.bundle) as { verificationMaterial: Record<string, unknown> };
    delete b.verificationMaterial.timestampVerificationData;
    await expect(verifyBlob(c.artifact, { publicKey: c.key!, bundle: b, trustedRoot: c.trustedRoot })).resolves.toMatchObject({ tlogVerified: true });
    // …and the same entry is refused by a root that does not list rekor.sigstore.dev.
    const other = (await load('managed-key-and-trusted-root')).trustedRoot;
    await expect(verifyBlob(c.artifact, { publicKey: c.key!, bundle: b, trustedRoot: other })).rejects.toThrow(/transparency-log verification failed/);
  });

  it('full mode notices a tampered Rekor entry even though the key signature is fine', async () => {
    const c = await load('managed-key-and-trusted-root');
    const b = JSON.parse(c.bundle) as { verificationMaterial: { tlogEntries: { inclusionProof: { hashes: string[] } }[] } };
    const h = Buffer.from(b.verificationMaterial.tlogEntries[0]!.inclusionProof.hashes[0]!, 'base64');
    h[0]! ^= 1;
    b.verificationMaterial.tlogEntries[0]!.inclusionProof.hashes[0] = h.toString('base64');
    await expect(verifyBlob(c.artifact, { publicKey: c.key!, bundle: b, ignoreTlog: true })).resolves.toBeDefined();
    await expect(verifyBlob(c.artifact, { publicKey: c.key!, bundle: b, trustedRoot: c.trustedRoot })).rejects.toThrow(/transparency-log verification failed/);
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
    expect(noRoot.stderr).toMatch(/^relsign: the bundle has a transparency-log entry but there is no trusted root to check it: pass --trusted-root/);
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
    await expect(verifyBlob(payload, { publicKey, bundle: tampered, trustedRoot })).rejects.toThrow(/transparency-log verification failed/);
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

  it('happy-path-v0.3 verifies with its certificate key (the method is sound); signature-mismatch_fail is rejected as an invalid signature', async () => {
    const scratch = await mkdtemp(join(tmpdir(), 'relsign-conf-'));
    try {
      const a = join(SUITE, 'a.txt');
      const okKey = await certKey('happy-path-v0.3', scratch);
      const ok = await runCli(['verify-blob', '--key', okKey, '--bundle', join(SUITE, 'happy-path-v0.3', 'bundle.sigstore.json'), '--insecure-ignore-tlog', a]);
      expect(ok.code, ok.stderr).toBe(0);

      const badKey = await certKey('signature-mismatch_fail', scratch);
      const bad = await runCli(['verify-blob', '--key', badKey, '--bundle', join(SUITE, 'signature-mismatch_fail', 'bundle.sigstore.json'), '--insecure-ignore-tlog', a]);
      expect(bad.code).toBe(1);
      expect(bad.stderr.trim()).toMatch(/^relsign: invalid signature: the bundle's signature does not verify with signature-mismatch_fail\.pub$/);
      expect(hasStackTrace(bad.stderr)).toBe(false);
      // The library says why, by reason.
      await expect(
        verifyBlob(a, { publicKey: await readFile(badKey, 'utf8'), bundle: await readFile(join(SUITE, 'signature-mismatch_fail', 'bundle.sigstore.json'), 'utf8'), ignoreTlog: true }),
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
      const r = await runCli(['verify-blob', '--key', key, '--bundle', join(SUITE, name, 'bundle.sigstore.json'), '--insecure-ignore-tlog', artifact]);
      expect(r.code).toBe(1);
      expect(r.stderr.trim()).toMatch(/^relsign: bundle digest mismatch: .* has sha256 [0-9a-f]{64}, the bundle signed [0-9a-f]{64}$/);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  });
});
