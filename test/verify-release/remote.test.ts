/**
 * `relsign verify-release OWNER/REPO@TAG` against the fake GitHub: the
 * release is listed by tag, each asset downloaded by its API URL (302 to
 * storage, followed without the token), checked against GitHub's listed size
 * and digest, then verified as a folder is. Hostile listings (a `../x` name,
 * sizes that lie, a 3 GiB asset) are each one line naming the asset.
 */
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Signer } from '../../src/sigstore/signer.js';
import { collectFromGitHub } from '../../src/verify-release/source.js';
import { verifyRelease } from '../../src/verify-release/verify.js';
import { loadPublicKey } from '../../src/sigstore/keys.js';
import { hasStackTrace, runCli } from '../helpers/cli.js';
import { FakeGitHub, type FakeRelease } from '../github/fake-github.js';
import { ARCHIVES, MANIFEST, signedRelease, tempDir } from './fixture.js';

let fake: FakeGitHub;
let signer: Signer;
beforeAll(async () => {
  fake = await new FakeGitHub({ anonymousReads: false }).start();
  signer = Signer.generate();
});
afterAll(async () => {
  await fake?.close();
});

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
  fake.releases.splice(0);
  fake.contents.clear();
});

/** A signed release in the fake, published under `tag`; returns the release and the public key file. */
async function publish(tag = 'v1.2.0', init: Parameters<typeof signedRelease>[1] = {}): Promise<{ release: FakeRelease; pub: string }> {
  const r = await signedRelease(signer, { tag, ...init });
  cleanups.push(r.cleanup);
  const release = fake.addRelease({ tag_name: tag });
  for (const name of (await readdir(r.dir)).sort()) fake.addAsset(release, { name, content: await readFile(join(r.dir, name)) });
  return { release, pub: r.pub };
}

const verify = (pub: string, target: string, extra: string[] = [], env: Record<string, string | undefined> = { GITHUB_TOKEN: fake.token }) =>
  runCli(['verify-release', '--key', pub, '--insecure-ignore-tlog', '--github-url', fake.apiUrl, ...extra, target], { env: { GH_TOKEN: undefined, ...env } });
const failedLines = (stdout: string) => stdout.split('\n').filter((l) => l.startsWith('FAILED '));

describe('verify-release OWNER/REPO@TAG', () => {
  it('downloads and verifies a published release', async () => {
    const { pub } = await publish();
    const r = await verify(pub, 'acme/widget@v1.2.0');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^verify-release acme\/widget@v1\.2\.0: 10 assets, manifest hello_1\.2\.0_manifest\.json/);
    expect(r.stdout).toMatch(/^verdict: OK: 10 assets verified against the manifest/m);
    // Every asset went through the API URL and a redirect to storage; no JSON response broke the schema.
    const downloads = fake.requests.filter((q) => /^\/storage\/assets\/\d+$/.test(q.path));
    expect(downloads).toHaveLength(10);
    expect(fake.violations).toEqual([]);
  });

  it('works without a token when the repository is public', async () => {
    const anon = await new FakeGitHub({ anonymousReads: true }).start();
    try {
      const r0 = await signedRelease(signer);
      cleanups.push(r0.cleanup);
      const release = anon.addRelease({ tag_name: 'v1.2.0' });
      for (const name of (await readdir(r0.dir)).sort()) anon.addAsset(release, { name, content: await readFile(join(r0.dir, name)) });
      const r = await runCli(['verify-release', '--key', r0.pub, '--insecure-ignore-tlog', '--github-url', anon.apiUrl, 'acme/widget@v1.2.0'], {
        env: { GITHUB_TOKEN: undefined, GH_TOKEN: undefined },
      });
      expect(r.code, r.stdout + r.stderr).toBe(0);
    } finally {
      await anon.close();
    }
  });

  it('a draft is not visible by tag: one line saying so', async () => {
    const { release, pub } = await publish();
    release.draft = true;
    const r = await verify(pub, 'acme/widget@v1.2.0');
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      "relsign: acme/widget@v1.2.0: no published release with tag v1.2.0 (a draft release is not visible by tag; download a draft's assets and verify the folder)",
    );
    expect(hasStackTrace(r.stderr)).toBe(false);
  });

  it('an asset replaced on GitHub fails, naming it', async () => {
    const { release, pub } = await publish();
    fake.setAssetContent(fake.asset(release, ARCHIVES[0]!), Buffer.from('replaced'));
    const r = await verify(pub, 'acme/widget@v1.2.0');
    expect(r.code).toBe(1);
    const lines = failedLines(r.stdout);
    expect(lines.length).toBe(3);
    for (const l of lines) expect(l.startsWith(`FAILED ${ARCHIVES[0]}: `)).toBe(true);
  });

  it("a manifest from another repository or tag does not vouch for this release", async () => {
    const { pub } = await publish('v1.2.0', { repository: 'acme/other', tag: 'v1.1.0' });
    const r = await verify(pub, 'acme/widget@v1.2.0');
    expect(r.code).toBe(1);
    expect(failedLines(r.stdout)).toEqual([
      `FAILED ${MANIFEST}: is for repository "acme/other", not acme/widget`,
      `FAILED ${MANIFEST}: is for tag "v1.1.0", not v1.2.0`,
    ]);
  });

  it('hostile listings: a path in a name, sizes and digests that lie, an oversize asset', async () => {
    const { release, pub } = await publish();
    fake.addAsset(release, { name: '../x', content: Buffer.from('escape') });
    fake.asset(release, ARCHIVES[0]!).size += 10; // listed larger than served
    fake.asset(release, ARCHIVES[1]!).size -= 10; // served larger than listed
    fake.asset(release, ARCHIVES[2]!).digest = `sha256:${'0'.repeat(64)}`;
    fake.addAsset(release, { name: 'huge.bin', size: 3 * 1024 ** 3, digest: null });
    const tmpRoot = await tempDir();
    cleanups.push(() => rm(tmpRoot, { recursive: true, force: true }));
    const got = await collectFromGitHub({ owner: 'acme', repo: 'widget', tag: 'v1.2.0', apiUrl: fake.apiUrl, token: fake.token, tmpRoot });
    try {
      const lines = got.problems.map((p) => `${p.subject}: ${p.reason}`).sort();
      expect(lines).toEqual([
        '"../x": the name "../x" must not contain a path separator (/ or \\); not downloaded',
        `${ARCHIVES[1]}: the download is larger than the ${fake.asset(release, ARCHIVES[1]!).size} bytes GitHub lists; stopped`,
        `${ARCHIVES[0]}: downloaded ${fake.asset(release, ARCHIVES[0]!).size - 10} bytes, GitHub lists ${fake.asset(release, ARCHIVES[0]!).size}`,
        expect.stringMatching(new RegExp(`^${ARCHIVES[2]!.replaceAll('.', '\\.')}: the downloaded bytes have sha256 [0-9a-f]{64}, GitHub lists 0{64}$`)),
        'huge.bin: GitHub lists its size as 3221225472 bytes; release assets are under 2 GiB; not downloaded',
      ]);
      // Only plain names were written, all inside the private folder.
      const [made] = await readdir(tmpRoot);
      expect((await readdir(join(tmpRoot, made!))).sort()).toEqual(got.assets.map((a) => a.name).sort());
      expect(got.assets.some((a) => a.name.includes('/'))).toBe(false);
    } finally {
      await got.cleanup();
    }
    expect(await readdir(tmpRoot)).toEqual([]);

    // The command reports each one line naming the asset, and fails.
    const r = await verify(pub, 'acme/widget@v1.2.0');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('FAILED "../x": the name "../x" must not contain a path separator');
    expect(r.stdout).toContain('FAILED huge.bin: GitHub lists its size as 3221225472 bytes');
    expect(hasStackTrace(r.stdout + r.stderr)).toBe(false);
  });

  it('a bad token is one line', async () => {
    const { pub } = await publish();
    const r = await verify(pub, 'acme/widget@v1.2.0', [], { GITHUB_TOKEN: 'ghp_wrong' });
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('relsign: acme/widget@v1.2.0: GitHub refused the token (401 Bad credentials); check GITHUB_TOKEN / GH_TOKEN');
    expect(r.stderr).not.toContain('ghp_wrong');
  });

  it('a storage error is retried; one that persists is one line naming the asset', async () => {
    await publish();
    fake.downloadFaults = { count: 2, status: 503 };
    const retry = { baseDelayMs: 1, maxDelayMs: 2 };
    const ok = await collectFromGitHub({ owner: 'acme', repo: 'widget', tag: 'v1.2.0', apiUrl: fake.apiUrl, token: fake.token, retry, concurrency: 1 });
    try {
      expect(ok.problems).toEqual([]);
      expect(ok.assets).toHaveLength(10);
    } finally {
      await ok.cleanup();
    }
    fake.downloadFaults = { count: 1000, status: 503 };
    const bad = await collectFromGitHub({ owner: 'acme', repo: 'widget', tag: 'v1.2.0', apiUrl: fake.apiUrl, token: fake.token, retry: { ...retry, attempts: 2 } });
    try {
      expect(bad.assets).toEqual([]);
      expect(bad.problems).toHaveLength(10);
      for (const p of bad.problems) expect(p.reason).toMatch(/^download failed: HTTP 503 from 127\.0\.0\.1:\d+$/);
    } finally {
      await bad.cleanup();
      fake.downloadFaults = { count: 0, status: 503 };
    }
  });

  it('a manifest that fails to download is reported once, not as "no manifest"', async () => {
    const { release, pub } = await publish();
    fake.asset(release, MANIFEST).size += 1;
    const got = await collectFromGitHub({ owner: 'acme', repo: 'widget', tag: 'v1.2.0', apiUrl: fake.apiUrl, token: fake.token });
    try {
      const report = await verifyRelease(got, { key: await loadPublicKey(pub), ignoreTlog: true });
      expect(report.ok).toBe(false);
      expect(report.manifest).toMatchObject({ name: MANIFEST, verified: false });
      expect(report.problems.map((p) => p.subject)).toEqual([MANIFEST]);
      expect(report.problems[0]!.reason).toMatch(/^downloaded \d+ bytes, GitHub lists \d+$/);
    } finally {
      await got.cleanup();
    }
  });
});

