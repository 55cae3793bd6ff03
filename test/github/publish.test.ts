import { createHash } from 'node:crypto';
import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { publishRelease } from '../../src/github/publish.js';
import { RelsignError } from '../../src/util/errors.js';
import { type Harness, makeFiles, startHarness, tempDir } from './helpers.js';

const sha = (s: string | Buffer) => `sha256:${createHash('sha256').update(s).digest('hex')}`;

let h: Harness;
let dir: string;
let cleanup: () => Promise<void>;

beforeEach(async () => {
  h = await startHarness();
  ({ dir, cleanup } = await tempDir());
});
afterEach(async () => {
  expect(h.fake.violations).toEqual([]);
  await h.fake.close();
  await cleanup();
});

async function assets(files: Record<string, string>) {
  const paths = await makeFiles(dir, files);
  return paths.map((path) => ({ path }));
}

describe('publishRelease against the fake GitHub', () => {
  it('clean release: draft → upload → verify → publish', async () => {
    const files = { 'widget_1.2.3_linux_amd64.tar.gz': 'linux-bits', 'widget_1.2.3_checksums.txt': 'sums\n', 'widget.sig': 'sig' };
    const result = await publishRelease(h.options({ assets: await assets(files) }));

    expect(result.created).toBe(true);
    expect(result.draft).toBe(false);
    expect(result.assets.map((a) => [a.name, a.status]).sort()).toEqual(
      Object.keys(files).map((n) => [n, 'uploaded']).sort(),
    );
    const [release] = h.fake.releases;
    expect(release).toMatchObject({ tag_name: 'v1.2.3', draft: false, immutable: true, make_latest: 'true', body: '## Changelog\n\n* abc1234 first' });
    for (const [name, content] of Object.entries(files)) {
      expect(release!.assets.find((a) => a.name === name)).toMatchObject({ size: content.length, digest: sha(content), state: 'uploaded' });
    }
    expect(release!.assets.find((a) => a.name.endsWith('.txt'))!.content_type).toBe('text/plain');
    expect(release!.assets.find((a) => a.name.endsWith('.tar.gz'))!.content_type).toBe('application/gzip');

    // Order: look up (tag 404 → list), create as draft, uploads, list, publish.
    const seq = h.fake.requests.map((r) => `${r.method} ${r.path.replace(/\/\d+/g, '/N')}`);
    expect(seq.slice(0, 3)).toEqual([
      'GET /api/v3/repos/acme/widget/releases/tags/v1.2.3',
      'GET /api/v3/repos/acme/widget/releases',
      'POST /api/v3/repos/acme/widget/releases',
    ]);
    expect(seq.slice(3, 6).every((s) => s === 'POST /api/uploads/repos/acme/widget/releases/N/assets')).toBe(true);
    expect(seq.slice(6)).toEqual(['GET /api/v3/repos/acme/widget/releases/N/assets', 'PATCH /api/v3/repos/acme/widget/releases/N']);
    expect(h.logs.some((l) => /ASSET\s+SIZE\s+STATUS/.test(l))).toBe(true);
    expect(h.logs.some((l) => l.includes('3 assets: 3 uploaded, 0 kept, 0 replaced'))).toBe(true);
  });

  it('re-run after success uploads nothing and succeeds', async () => {
    const list = await assets({ 'a.tar.gz': 'aaa', 'b.zip': 'bbb' });
    await publishRelease(h.options({ assets: list }));
    const writesBefore = h.fake.writesCount();

    const again = await publishRelease(h.options({ assets: list }));
    expect(again.created).toBe(false);
    expect(again.assets.map((a) => a.status)).toEqual(['kept', 'kept']);
    expect(h.fake.writesCount()).toBe(writesBefore); // no upload, no PATCH, no DELETE
    expect(h.fake.releases).toHaveLength(1);
    expect(h.fake.releases[0]!.assets).toHaveLength(2);
  });

  it('failure mid-upload leaves a draft; re-run completes with no duplicates', async () => {
    const names = ['1.tar.gz', '2.tar.gz', '3.tar.gz', '4.tar.gz', '5.tar.gz'];
    const list = await assets(Object.fromEntries(names.map((n) => [n, `content of ${n}`])));
    // 3.tar.gz: the connection drops on every try of this run.
    h.fake.failUpload('3.tar.gz', { kind: 'reset' }, { kind: 'reset' }, { kind: 'reset' });

    const err = await publishRelease(h.options({ assets: list, concurrency: 1, retry: { attempts: 3 } })).catch((e) => e);
    expect(err).toBeInstanceOf(RelsignError);
    expect(err.message).toMatch(/3\.tar\.gz/);
    expect(err.message).toMatch(/left as a draft .*re-run the same command to resume/);
    const release = h.fake.releases[0]!;
    expect(release.draft).toBe(true); // never published half-done
    expect(h.fake.requests.some((r) => r.method === 'PATCH')).toBe(false);
    expect(release.assets.map((a) => a.name)).toEqual(['1.tar.gz', '2.tar.gz']);
    // Each try re-opened the file and sent it whole again.
    expect(h.fake.uploads().filter((r) => r.status === 0 || r.status >= 400).length).toBeGreaterThanOrEqual(1);

    const result = await publishRelease(h.options({ assets: list, concurrency: 1 }));
    expect(result.created).toBe(false);
    expect(Object.fromEntries(result.assets.map((a) => [a.name, a.status]))).toEqual({
      '1.tar.gz': 'kept',
      '2.tar.gz': 'kept',
      '3.tar.gz': 'uploaded',
      '4.tar.gz': 'uploaded',
      '5.tar.gz': 'uploaded',
    });
    expect(h.fake.releases).toHaveLength(1);
    expect(release.draft).toBe(false);
    expect(release.assets.map((a) => a.name).sort()).toEqual(names);
    for (const a of release.assets) expect(a.digest).toBe(sha(`content of ${a.name}`));
  });

  it('502 leaving a starter asset: deleted and uploaded again within the run', async () => {
    const list = await assets({ 'x.tar.gz': 'x-content', 'y.tar.gz': 'y-content' });
    h.fake.failUpload('x.tar.gz', { kind: '502-starter' });
    const result = await publishRelease(h.options({ assets: list }));
    expect(result.assets.map((a) => a.status)).toEqual(['uploaded', 'uploaded']);
    const rel = h.fake.releases[0]!;
    expect(rel.assets.map((a) => [a.name, a.state])).toEqual(
      expect.arrayContaining([
        ['x.tar.gz', 'uploaded'],
        ['y.tar.gz', 'uploaded'],
      ]),
    );
    expect(rel.assets).toHaveLength(2);
    expect(h.fake.requests.filter((r) => r.method === 'DELETE')).toHaveLength(1);
    expect(h.logs.some((l) => l.includes('incomplete leftover (state starter) asset x.tar.gz'))).toBe(true);
  });

  it('a starter leftover from an earlier run is deleted before uploading', async () => {
    const draft = h.fake.addRelease({ tag_name: 'v1.2.3', draft: true });
    h.fake.addAsset(draft, { name: 'x.tar.gz', size: 0, state: 'starter', digest: null });
    const list = await assets({ 'x.tar.gz': 'x-content' });
    const result = await publishRelease(h.options({ assets: list }));
    expect(result.created).toBe(false);
    expect(result.releaseId).toBe(draft.id);
    expect(draft.assets).toHaveLength(1);
    expect(draft.assets[0]).toMatchObject({ state: 'uploaded', digest: sha('x-content') });
    expect(draft.draft).toBe(false);
  });

  it('resume over a draft holding a differing complete asset: replaced by default, logged, then published', async () => {
    const list = await assets({ 'a.tar.gz': 'v1', 'b.tar.gz': 'same' });
    await publishRelease(h.options({ assets: list, draft: true }));
    const rel = h.fake.releases[0]!;
    expect(rel.draft).toBe(true);

    // An earlier run whose build was not byte-reproducible: this run's file differs.
    await writeFile(join(dir, 'a.tar.gz'), 'v2 changed');
    h.logs.length = 0;
    const result = await publishRelease(h.options({ assets: list }));
    expect(Object.fromEntries(result.assets.map((a) => [a.name, a.status]))).toEqual({ 'a.tar.gz': 'replaced', 'b.tar.gz': 'kept' });
    expect(rel.assets.find((a) => a.name === 'a.tar.gz')!.digest).toBe(sha('v2 changed'));
    expect(rel.assets).toHaveLength(2);
    expect(rel.draft).toBe(false);
    expect(h.logs.filter((l) => l.startsWith('replacing asset a.tar.gz on draft v1.2.3'))).toHaveLength(1);
    expect(h.logs.some((l) => l.includes('b.tar.gz') && l.startsWith('replacing'))).toBe(false);
  });

  it('a published release with a differing asset: one error naming replace_existing_artifacts, nothing uploaded; replaced with it', async () => {
    const rel = h.fake.addRelease({ tag_name: 'v1.2.3', draft: false, immutable: false });
    h.fake.addAsset(rel, { name: 'a.tar.gz', content: Buffer.from('v1') });
    const list = await assets({ 'a.tar.gz': 'v2 changed', 'b.tar.gz': 'new' });
    const err = await publishRelease(h.options({ assets: list })).catch((e) => e);
    expect(err).toBeInstanceOf(RelsignError);
    expect(err.message).toMatch(/asset a\.tar\.gz already exists on release v1\.2\.3 and its digest sha256:\w+ differs .*set release\.replace_existing_artifacts: true/);
    expect(h.fake.uploads()).toHaveLength(0); // failed before uploading anything
    expect(rel.assets[0]!.digest).toBe(sha('v1'));

    const result = await publishRelease(h.options({ assets: list, replaceExistingArtifacts: true }));
    expect(Object.fromEntries(result.assets.map((a) => [a.name, a.status]))).toEqual({ 'a.tar.gz': 'replaced', 'b.tar.gz': 'uploaded' });
    expect(rel.assets.find((a) => a.name === 'a.tar.gz')!.digest).toBe(sha('v2 changed'));
  });

  it('a published release keeps a differing signature (keepExistingWith) only when what it signs is identical there; the verify hook sees only what was uploaded or is identical', async () => {
    const rel = h.fake.addRelease({ tag_name: 'v1.2.3', draft: false, immutable: false });
    h.fake.addAsset(rel, { name: 'm.json', content: Buffer.from('manifest') });
    h.fake.addAsset(rel, { name: 'm.json.sigstore.json', content: Buffer.from('bundle, first run') });
    const [m, b] = await assets({ 'm.json': 'manifest', 'm.json.sigstore.json': 'bundle, second run' });
    const seen: string[][] = [];
    const verify = async (l: readonly { name: string }[]) => void seen.push(l.map((a) => a.name));
    const result = await publishRelease(h.options({ assets: [m!, { ...b!, keepExistingWith: 'm.json' }], verify }));
    expect(result.assets.map((a) => [a.name, a.status])).toEqual([['m.json', 'kept'], ['m.json.sigstore.json', 'kept']]);
    expect(h.fake.uploads()).toHaveLength(0);
    expect(rel.assets.find((a) => a.name === 'm.json.sigstore.json')!.digest).toBe(sha('bundle, first run'));
    expect(seen).toEqual([['m.json']]);
    expect(h.logs.some((l) => l.startsWith("keeping the release's m.json.sigstore.json: it signs m.json as on the release"))).toBe(true);

    // What it signs differs: the usual conflict (the old bundle does not sign the new manifest).
    const [m2, b2] = await assets({ 'm.json': 'another manifest', 'm.json.sigstore.json': 'bundle, third run' });
    const err = await publishRelease(h.options({ assets: [m2!, { ...b2!, keepExistingWith: 'm.json' }] })).catch((e) => e);
    expect(err.message).toMatch(/2 assets differ from the release's copies: asset m\.json already exists/);
    expect(h.fake.uploads()).toHaveLength(0);
  });

  it('a failing verify hook leaves the draft unpublished, with the resume hint', async () => {
    const list = await assets({ 'a.tar.gz': 'aaa' });
    const err = await publishRelease(
      h.options({ assets: list, verify: async () => { throw new RelsignError('release.verify: signature check failed for a.tar.gz.sig: invalid signature; not publishing'); } }),
    ).catch((e) => e);
    expect(err.message).toMatch(/^release\.verify: signature check failed for a\.tar\.gz\.sig: invalid signature; not publishing; release v1\.2\.3 is left as a draft/);
    expect(h.fake.releases[0]!.draft).toBe(true);
    expect(h.fake.requests.some((r) => r.method === 'PATCH')).toBe(false);
  });

  it('a draft adopted by name for another tag (use_existing_draft) is not relsign\'s own: a differing asset is an error', async () => {
    const other = h.fake.addRelease({ tag_name: 'next', name: 'v1.2.3', draft: true });
    h.fake.addAsset(other, { name: 'a.tar.gz', content: Buffer.from('theirs') });
    const list = await assets({ 'a.tar.gz': 'ours' });
    const err = await publishRelease(h.options({ assets: list, useExistingDraft: true })).catch((e) => e);
    expect(err).toBeInstanceOf(RelsignError);
    expect(err.message).toMatch(/asset a\.tar\.gz already exists on release next .*replace_existing_artifacts/);
    expect(other.assets[0]!.digest).toBe(sha('theirs'));
  });

  it('GitHub answers 201 but stores other bytes (wrong digest): the release stays a draft, no publish request, the error names the asset', async () => {
    const list = await assets({ 'a.tar.gz': 'aaaa', 'b.tar.gz': 'bbbb' });
    h.fake.failUpload('b.tar.gz', { kind: 'wrong-digest' });
    const err = await publishRelease(h.options({ assets: list })).catch((e) => e);
    expect(err).toBeInstanceOf(RelsignError);
    expect(err.message).toMatch(/^verification failed: b\.tar\.gz has digest sha256:[0-9a-f]{64} on GitHub, sha256:[0-9a-f]{64} locally; release v1\.2\.3 is left as a draft/);
    expect(h.fake.uploads().map((u) => u.status)).toEqual([201, 201]);
    expect(h.fake.releases[0]!.draft).toBe(true);
    expect(h.fake.requests.some((r) => r.method === 'PATCH')).toBe(false);
  });

  it('GitHub answers 201 but keeps a truncated copy (wrong size): the release stays a draft, no publish request, the error names the asset', async () => {
    const list = await assets({ 'a.tar.gz': 'a'.repeat(5000) });
    h.fake.failUpload('a.tar.gz', { kind: 'truncated', keep: 4000 });
    const err = await publishRelease(h.options({ assets: list })).catch((e) => e);
    expect(err).toBeInstanceOf(RelsignError);
    expect(err.message).toMatch(/^verification failed: a\.tar\.gz has 4000 bytes on GitHub, 5000 locally/);
    expect(h.fake.releases[0]!.draft).toBe(true);
    expect(h.fake.requests.some((r) => r.method === 'PATCH')).toBe(false);
  });

  it('a re-run over a copy GitHub stored wrongly replaces it on the draft and publishes', async () => {
    const list = await assets({ 'a.tar.gz': 'a'.repeat(5000) });
    h.fake.failUpload('a.tar.gz', { kind: 'wrong-digest' });
    await publishRelease(h.options({ assets: list })).catch(() => undefined);
    const result = await publishRelease(h.options({ assets: list }));
    expect(result.assets.map((a) => a.status)).toEqual(['replaced']);
    expect(h.fake.releases[0]!.assets[0]!.digest).toBe(sha('a'.repeat(5000)));
    expect(h.fake.releases[0]!.draft).toBe(false);
  });

  it('a published immutable release cannot change; identical re-run still passes', async () => {
    const list = await assets({ 'a.tar.gz': 'v1' });
    await publishRelease(h.options({ assets: list }));
    await writeFile(join(dir, 'a.tar.gz'), 'v2');
    const err = await publishRelease(h.options({ assets: list, replaceExistingArtifacts: true })).catch((e) => e);
    expect(err).toBeInstanceOf(RelsignError);
    expect(err.message).toMatch(/published and immutable/);
    expect(h.fake.releases[0]!.assets[0]!.digest).toBe(sha('v1'));
  });

  it('mode append/prepend/replace merge the notes of an existing release', async () => {
    h.fake.addRelease({ tag_name: 'v1.2.3', draft: false, body: 'old notes' });
    await publishRelease(h.options({ body: 'new notes', mode: 'append' }));
    expect(h.fake.releases[0]!.body).toBe('old notes\n\nnew notes');
    h.fake.releases[0]!.body = 'old notes';
    await publishRelease(h.options({ body: 'new notes', mode: 'prepend' }));
    expect(h.fake.releases[0]!.body).toBe('new notes\n\nold notes');
    await publishRelease(h.options({ body: 'only', mode: 'replace' }));
    expect(h.fake.releases[0]!.body).toBe('only');
    const patches = h.fake.requests.filter((r) => r.method === 'PATCH').length;
    await publishRelease(h.options({ body: 'ignored', mode: 'keep-existing' }));
    expect(h.fake.releases[0]!.body).toBe('only');
    expect(h.fake.requests.filter((r) => r.method === 'PATCH').length).toBe(patches);
  });

  it('use_existing_draft resumes a draft found by release name and moves it to the tag', async () => {
    const other = h.fake.addRelease({ tag_name: 'untagged-draft', name: 'v1.2.3', draft: true, body: 'drafted notes' });
    const list = await assets({ 'a.tar.gz': 'aaa' });
    const withoutFlag = await publishRelease(h.options({ assets: list, draft: true, tag: 'v1.2.3' }));
    expect(withoutFlag.releaseId).not.toBe(other.id); // by default only drafts for the tag are resumed
    h.fake.releases.splice(h.fake.releases.findIndex((r) => r.id === withoutFlag.releaseId), 1);

    const r = await publishRelease(h.options({ assets: list, useExistingDraft: true }));
    expect(r.releaseId).toBe(other.id);
    expect(other).toMatchObject({ tag_name: 'v1.2.3', draft: false, body: 'drafted notes' });
  });

  it('replace_existing_draft deletes the leftover draft (and its assets) and starts a fresh one', async () => {
    const old = h.fake.addRelease({ tag_name: 'v1.2.3', draft: true, body: 'stale draft' });
    const list = await assets({ 'a.tar.gz': 'fresh' });
    const r = await publishRelease(h.options({ assets: list, replaceExistingDraft: true }));
    expect(r.releaseId).not.toBe(old.id);
    expect(r.created).toBe(true);
    expect(h.fake.releases.map((x) => x.id)).toEqual([r.releaseId]);
    expect(h.fake.requests.some((q) => q.method === 'DELETE' && q.path.endsWith(`/releases/${old.id}`))).toBe(true);
    expect(h.fake.releases[0]).toMatchObject({ tag_name: 'v1.2.3', draft: false });
  });

  it('prerelease forces make_latest=false; draft: true is never published', async () => {
    await publishRelease(h.options({ tag: 'v2.0.0-rc.1', prerelease: true, makeLatest: 'true' }));
    expect(h.fake.releases[0]).toMatchObject({ prerelease: true, draft: false, make_latest: 'false' });
    const r = await publishRelease(h.options({ tag: 'v3.0.0', draft: true }));
    expect(r.draft).toBe(true);
    expect(h.fake.releases.find((x) => x.tag_name === 'v3.0.0')!.draft).toBe(true);
  });

  it('secondary-limit 403, 500 and a connection reset: waits retry-after/backoff, re-opens the file, succeeds', async () => {
    const list = await assets({ 'a.tar.gz': 'aaaa' });
    h.fake.failUpload('a.tar.gz', { kind: 'secondary-limit', retryAfter: 7 }, { kind: '500' }, { kind: 'reset' });
    const result = await publishRelease(h.options({ assets: list, retry: { attempts: 5, baseDelayMs: 10 } }));
    expect(result.assets[0]!.status).toBe('uploaded');
    expect(h.clock.sleeps).toContain(7000);
    expect(h.clock.sleeps).toContain(20); // then backoff after the 500 (second try)
    expect(h.clock.sleeps).toContain(40); // and after the connection reset (third try)
    expect(h.fake.uploads().map((u) => u.status)).toEqual([403, 500, 0, 201]); // 0: socket dropped mid-body
    const warns = h.logs.filter((l) => l.startsWith('WARN upload a.tar.gz'));
    expect(warns).toHaveLength(3);
    expect(warns[0]).toMatch(/HTTP 403: You have exceeded a secondary rate limit.*retrying in 7s \(try 2\/5\)/);
    expect(warns[2]).toMatch(/connection error: .*ECONNRESET.*retrying in 40ms \(try 4\/5\)/);
    expect(h.fake.releases[0]!.assets[0]!.digest).toBe(sha('aaaa'));
  });

  it('404 right after creating the release is retried (replication lag)', async () => {
    h.fake.notFoundAfterCreate = 2;
    const list = await assets({ 'a.tar.gz': 'aaaa' });
    const result = await publishRelease(h.options({ assets: list }));
    expect(result.assets[0]!.status).toBe('uploaded');
    expect(h.fake.uploads().map((u) => u.status)).toEqual([404, 404, 201]);
  });

  it('an interrupted run (Ctrl-C / --timeout) leaves the draft unpublished and says how to resume', async () => {
    const list = await assets({ 'a.tar.gz': 'a'.repeat(1000), 'b.tar.gz': 'b' });
    const ac = new AbortController();
    const opts = h.options({ assets: list, signal: ac.signal, concurrency: 1 });
    const info = opts.log!.info;
    opts.log = { ...opts.log!, info: (m) => (info(m), m.startsWith('created draft release') && ac.abort(new Error('SIGINT'))) };
    const err = await publishRelease(opts).catch((e) => e);
    expect(err).toBeInstanceOf(RelsignError);
    expect(err.message).toMatch(/^release interrupted; release v1\.2\.3 is left as a draft \(id \d+, http:\/\/127\.0\.0\.1:\d+\/acme\/widget\/releases\/tag\/untagged-\d+, nothing was published\); re-run the same command to resume it/);
    expect(h.logs.some((l) => l.startsWith('WARN interrupted: release v1.2.3 is left as a draft (id '))).toBe(true);
    expect(h.fake.releases[0]!.draft).toBe(true);
    expect(h.fake.requests.some((r) => r.method === 'PATCH')).toBe(false);
  });

  it('150 assets: paced under 80 writes/min, paginated listing, idempotent re-run', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 150; i++) files[`asset-${String(i).padStart(3, '0')}.bin`] = `payload ${i}`;
    const list = await assets(files);
    const result = await publishRelease(h.options({ assets: list, concurrency: 8 }));
    expect(result.assets).toHaveLength(150);
    expect(h.fake.releases[0]!.assets).toHaveLength(150);
    expect(h.fake.rateLimited).toBe(0); // the fake never had to push back
    // 1 create + 150 uploads + 1 publish, never more than 80 in any 60 s window.
    const writes = h.fake.requests.filter((r) => r.write).map((r) => r.at);
    expect(writes).toHaveLength(152);
    for (const t of writes) expect(writes.filter((u) => u >= t && u < t + 60_000).length).toBeLessThanOrEqual(80);
    expect(h.clock.elapsed()).toBeGreaterThanOrEqual(60_000);
    // Verification listed both pages.
    const pages = h.fake.requests.filter((r) => r.method === 'GET' && /\/assets$/.test(r.path));
    expect(pages.length).toBe(2);

    const again = await publishRelease(h.options({ assets: list }));
    expect(again.assets.every((a) => a.status === 'kept')).toBe(true);
    expect(h.fake.writesCount()).toBe(152);
  });

  it('the fake pushes back (403 + retry-after) when writes come too fast, and relsign recovers', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 90; i++) files[`f${i}.bin`] = `p${i}`;
    const list = await assets(files);
    // Allow relsign more than GitHub does: the fake's 80/min limit answers with 60 s retry-after.
    const result = await publishRelease(h.options({ assets: list, pacing: { perMinute: 200 }, retry: { attempts: 4 } }));
    expect(result.assets).toHaveLength(90);
    expect(h.fake.rateLimited).toBeGreaterThan(0);
    expect(h.clock.sleeps).toContain(60_000);
    expect(h.fake.releases[0]!.assets).toHaveLength(90);
  });
});

describe('preflight', () => {
  it('rejects empty, missing, duplicate and ≥ 2 GiB assets before any request', async () => {
    await makeFiles(dir, { 'empty.txt': '', 'ok.txt': 'x' });
    const big = join(dir, 'big.bin');
    const fh = await open(big, 'w');
    await fh.truncate(2 * 1024 ** 3); // sparse
    await fh.close();
    const err = await publishRelease(
      h.options({
        assets: [
          { path: join(dir, 'empty.txt') },
          { path: join(dir, 'ok.txt') },
          { path: join(dir, 'ok.txt'), name: 'ok.txt' },
          { path: join(dir, 'nope.txt') },
          { path: big },
        ],
      }),
    ).catch((e) => e);
    expect(err).toBeInstanceOf(RelsignError);
    expect(err.details.join('\n')).toMatch(/empty\.txt is empty/);
    expect(err.details.join('\n')).toMatch(/asset name ok\.txt is used twice/);
    expect(err.details.join('\n')).toMatch(/nope\.txt does not exist/);
    expect(err.details.join('\n')).toMatch(/big\.bin is 2147483648 bytes; GitHub assets must be smaller than 2 GiB/);
    expect(h.fake.requests).toHaveLength(0);
  });

  it('rejects more than 1000 assets, and a release that would exceed 1000', async () => {
    const many = Array.from({ length: 1001 }, (_, i) => ({ path: join(dir, 'x'), name: `n${i}` }));
    await makeFiles(dir, { x: 'x' });
    const err = await publishRelease(h.options({ assets: many })).catch((e) => e);
    expect(err.message).toMatch(/1001 assets to upload, but GitHub allows at most 1000/);
    expect(h.fake.requests).toHaveLength(0);

    const draft = h.fake.addRelease({ tag_name: 'v1.2.3', draft: true });
    for (let i = 0; i < 999; i++) h.fake.addAsset(draft, { name: `old${i}` });
    const err2 = await publishRelease(h.options({ assets: [{ path: join(dir, 'x'), name: 'a' }, { path: join(dir, 'x'), name: 'b' }] })).catch((e) => e);
    expect(err2.message).toMatch(/already has 999 assets; adding 2 would exceed GitHub's 1000-asset limit/);
    expect(h.fake.uploads()).toHaveLength(0);
  });

  it('missing token, bad token and unknown repository are one-line errors', async () => {
    await expect(publishRelease(h.options({ token: '' }))).rejects.toThrow(/missing GITHUB_TOKEN/);
    await expect(publishRelease(h.options({ token: 'ghp_wrong' }))).rejects.toThrow(/rejected the token .*401/);
    await expect(publishRelease(h.options({ repo: 'nope' }))).rejects.toThrow(/repository acme\/nope not found, or the token cannot access it/);
    expect(h.fake.releases).toHaveLength(0);
  });
});
