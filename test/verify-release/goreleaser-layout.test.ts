/**
 * Releases made by other tools (no manifest): GoReleaser + cosign lay out a
 * checksums file and `.sig` files (signs: artifacts: checksum, or all). The
 * keys are cosign's own (../shared/vectors/cosign-keys, password "hello").
 * Each asset gets a row saying what vouches for it; an asset nothing verifies
 * fails the verdict unless --allow-unsigned.
 */
import { mkdir, rm, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Signer } from '../../src/sigstore/signer.js';
import { runCli } from '../helpers/cli.js';
import { ARCHIVES, CHECKSUMS, tempDir, writeSignedAssets } from './fixture.js';

const VECTORS = '../shared/vectors/cosign-keys';
const PUB = `${VECTORS}/pemcosignkey.pub`;
let signer: Signer;
beforeAll(async () => {
  signer = await Signer.load(`${VECTORS}/pemcosignkey.key`, 'hello');
});

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function layout(sigs: 'all' | 'checksums'): Promise<string> {
  const root = await tempDir();
  cleanups.push(() => rm(root, { recursive: true, force: true }));
  const dir = join(root, 'dist');
  await mkdir(dir);
  await writeSignedAssets(dir, signer, { sigs });
  return dir;
}

const verify = (dir: string, extra: string[] = [], key = PUB) => runCli(['verify-release', '--key', key, '--insecure-ignore-tlog', ...extra, dir]);
const row = (stdout: string, name: string) => stdout.split('\n').find((l) => l.startsWith(`${name} `)) ?? '';

describe('verify-release of a GoReleaser + cosign layout (no manifest)', () => {
  it('signs: artifacts: checksum — the signed checksums vouch for each archive', async () => {
    const dir = await layout('checksums');
    const r = await verify(dir);
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/^verify-release .*: 5 assets, no manifest, checksums hello_1\.2\.0_checksums\.txt$/m);
    for (const a of ARCHIVES) expect(row(r.stdout, a)).toMatch(/^\S+\s+[0-9a-f]{12}\s+ok\s+checksums\s+key SHA256:[0-9a-f]{16}$/);
    expect(row(r.stdout, CHECKSUMS)).toMatch(/\sok\s+hello_1\.2\.0_checksums\.txt\.sig\s/);
    expect(row(r.stdout, `${CHECKSUMS}.sig`)).toMatch(/\sok\s+signs hello_1\.2\.0_checksums\.txt\s/);
    expect(r.stdout).toMatch(/^verdict: OK: 5 assets verified by their signatures and the signed checksums \(no manifest\)$/m);
  });

  it('signs: artifacts: all — each archive by its own .sig and the checksums', async () => {
    const dir = await layout('all');
    const r = await verify(dir);
    expect(r.code, r.stdout).toBe(0);
    for (const a of ARCHIVES) expect(row(r.stdout, a)).toContain(`ok      ${a}.sig, checksums`);
  });

  it('another key: the checksums signature fails, and nothing vouches for the archives', async () => {
    const dir = await layout('checksums');
    const r = await verify(dir, [], `${VECTORS}/pemsigstorekey.pub`);
    expect(r.code).toBe(1);
    const failed = r.stdout.split('\n').filter((l) => l.startsWith('FAILED '));
    expect(failed[0]).toMatch(/^FAILED hello_1\.2\.0_checksums\.txt: hello_1\.2\.0_checksums\.txt\.sig: invalid signature/);
    for (const a of ARCHIVES) expect(failed).toContain(`FAILED ${a}: nothing verifies it: no signature, and not in a signed manifest or checksums file`);
  });

  it('a tampered archive fails against the checksums; an unlisted unsigned asset is "unverified"', async () => {
    const dir = await layout('checksums');
    await writeFile(join(dir, ARCHIVES[0]!), 'tampered');
    await writeFile(join(dir, 'notes.txt'), 'not in the checksums, not signed');
    const r = await verify(dir);
    expect(r.code).toBe(1);
    const failed = r.stdout.split('\n').filter((l) => l.startsWith('FAILED '));
    expect(failed).toContainEqual(expect.stringMatching(new RegExp(`^FAILED ${ARCHIVES[0]!.replaceAll('.', '\\.')}: sha256 [0-9a-f]{64} does not match hello_1\\.2\\.0_checksums\\.txt's [0-9a-f]{64}$`)));
    expect(failed).toContain('FAILED notes.txt: nothing verifies it: no signature, and not in a signed manifest or checksums file');
    expect(failed).toHaveLength(2);
  });

  it('--allow-unsigned: an unverified asset is reported but passes', async () => {
    const dir = await layout('checksums');
    await writeFile(join(dir, 'notes.txt'), 'not in the checksums, not signed');
    const r = await verify(dir, ['--allow-unsigned']);
    expect(r.code, r.stdout).toBe(0);
    expect(row(r.stdout, 'notes.txt')).toMatch(/\sunverified\s+-\s+-$/);
    expect(r.stdout).toContain('note: notes.txt: unverified (no signature, and not in a signed manifest or checksums file); allowed by --allow-unsigned');
  });

  it('a removed archive is missing from the checksums listing', async () => {
    const dir = await layout('all');
    await unlink(join(dir, ARCHIVES[1]!));
    const r = await verify(dir);
    expect(r.code).toBe(1);
    const failed = r.stdout.split('\n').filter((l) => l.startsWith('FAILED '));
    expect(failed).toEqual([
      `FAILED ${ARCHIVES[1]}: is listed in ${CHECKSUMS} but missing from the release`,
      `FAILED ${ARCHIVES[1]}.sig: nothing verifies it: it signs ${ARCHIVES[1]}, which is not in the release`,
    ]);
  });
});
