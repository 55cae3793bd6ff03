import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createGitHubClient, isAlreadyExists } from '../../src/github/client.js';
import { FakeGitHub } from './fake-github.js';

/** The fake itself must behave as GitHub documents, or the publisher tests prove nothing. */
let fake: FakeGitHub;
beforeEach(async () => {
  fake = await new FakeGitHub().start();
});
afterEach(async () => {
  await fake.close();
});

function client() {
  return createGitHubClient({ token: fake.token, apiUrl: fake.apiUrl });
}

/** A raw upload with a given Content-Length, sending `send` bytes (or none). */
function rawUpload(releaseId: number, name: string, contentLength: number | undefined, send: Buffer = Buffer.alloc(0)) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const u = new URL(`${fake.apiUrl.replace('/v3', '/uploads')}/repos/acme/widget/releases/${releaseId}/assets?name=${name}`);
    const req = request(
      u,
      {
        method: 'POST',
        headers: {
          authorization: `token ${fake.token}`,
          'content-type': 'application/octet-stream',
          ...(contentLength !== undefined ? { 'content-length': String(contentLength) } : {}),
        },
      },
      (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      },
    );
    req.on('error', reject);
    if (contentLength !== undefined && send.length < contentLength) {
      // Do not send a body we announced as huge: the server answers from the header.
      req.flushHeaders();
    } else {
      req.end(send);
    }
  });
}

describe('fake GitHub', () => {
  it('checks against a schema snapshot that matches the installed @octokit/openapi', async () => {
    const { extractSchemas } = (await import('./openapi/extract.mjs' as string)) as { extractSchemas: () => unknown };
    const snapshot = JSON.parse(readFileSync(new URL('./openapi/schemas.json', import.meta.url), 'utf8'));
    // If this fails after upgrading @octokit/openapi: node test/github/openapi/extract.mjs, then re-run.
    expect(extractSchemas()).toEqual(snapshot);
  });

  it('drafts 404 on the tag endpoint but show up in the release list', async () => {
    const gh = client();
    const created = await gh.rest.repos.createRelease({ owner: 'acme', repo: 'widget', tag_name: 'v1', draft: true });
    expect(created.status).toBe(201);
    await expect(gh.rest.repos.getReleaseByTag({ owner: 'acme', repo: 'widget', tag: 'v1' })).rejects.toMatchObject({ status: 404 });
    const list = await gh.rest.repos.listReleases({ owner: 'acme', repo: 'widget' });
    expect(list.data.map((r) => [r.tag_name, r.draft])).toEqual([['v1', true]]);
    expect(created.data.upload_url).toMatch(/\/api\/uploads\/repos\/acme\/widget\/releases\/\d+\/assets\{\?name,label\}$/);
    expect(fake.violations).toEqual([]);
  });

  it('rejects duplicate names (already_exists), 0 bytes, 2 GiB, missing Content-Length, the 1001st asset', async () => {
    const gh = client();
    const r = (await gh.rest.repos.createRelease({ owner: 'acme', repo: 'widget', tag_name: 'v1', draft: true })).data;
    const upload = (name: string, data: string) =>
      gh.rest.repos.uploadReleaseAsset({
        owner: 'acme',
        repo: 'widget',
        release_id: r.id,
        url: r.upload_url,
        name,
        data,
        headers: { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(data) },
      });
    const first = await upload('a.txt', 'hello');
    expect(first.data).toMatchObject({ name: 'a.txt', size: 5, state: 'uploaded', digest: 'sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824' });
    const dup = await upload('a.txt', 'hello').catch((e) => e);
    expect(dup.status).toBe(422);
    expect(isAlreadyExists(dup)).toBe(true);
    expect(dup.response.data.errors).toEqual([{ resource: 'ReleaseAsset', code: 'already_exists', field: 'name' }]);

    expect(await rawUpload(r.id, 'zero', 0)).toMatchObject({ status: 422, body: expect.stringContaining('size must be greater than or equal to 1') });
    expect(await rawUpload(r.id, 'huge', 3 * 1024 ** 3)).toMatchObject({ status: 422, body: expect.stringContaining('less than or equal to 2147483648') });
    expect((await rawUpload(r.id, 'exact', 2 * 1024 ** 3)).status).toBe(500);

    const stored = fake.releases[0]!;
    for (let i = stored.assets.length; i < 1000; i++) fake.addAsset(stored, { name: `n${i}` });
    const over = await upload('one-too-many', 'x').catch((e) => e);
    expect(over.status).toBe(422);
    expect(JSON.stringify(over.response.data)).toMatch(/file_count limited to 1000 assets per release/);
    expect(fake.violations).toEqual([]);
  });

  it('chunked uploads (no Content-Length) are refused with 400 Bad Content-Length', async () => {
    const r = fake.addRelease({ tag_name: 'v1', draft: true });
    const res = await new Promise<number>((resolve, reject) => {
      const req = request(
        new URL(`${fake.apiUrl.replace('/v3', '/uploads')}/repos/acme/widget/releases/${r.id}/assets?name=x`),
        { method: 'POST', headers: { authorization: `token ${fake.token}`, 'content-type': 'text/plain' } },
        (resp) => {
          resp.resume();
          resolve(resp.statusCode!);
        },
      );
      req.on('error', reject);
      req.write('abc');
      req.end();
    });
    expect(res).toBe(400);
  });

  it('paginates with Link headers past 100 items', async () => {
    const r = fake.addRelease({ tag_name: 'v1', draft: true });
    for (let i = 0; i < 230; i++) fake.addAsset(r, { name: `a${i}`, content: Buffer.from(`c${i}`) });
    const gh = client();
    const page1 = await gh.rest.repos.listReleaseAssets({ owner: 'acme', repo: 'widget', release_id: r.id, per_page: 100 });
    expect(page1.data).toHaveLength(100);
    expect(page1.headers.link).toMatch(/page=2>; rel="next"/);
    expect(page1.headers.link).toMatch(/page=3>; rel="last"/);
    const all = await gh.paginate(gh.rest.repos.listReleaseAssets, { owner: 'acme', repo: 'widget', release_id: r.id, per_page: 100 });
    expect(all).toHaveLength(230);
    expect(new Set(all.map((a) => a.name)).size).toBe(230);
    expect(fake.violations).toEqual([]);
  });

  it('published releases are immutable: no uploads, no deletes', async () => {
    const r = fake.addRelease({ tag_name: 'v1', draft: true });
    const a = fake.addAsset(r, { name: 'a', content: Buffer.from('a') });
    const gh = client();
    await gh.rest.repos.updateRelease({ owner: 'acme', repo: 'widget', release_id: r.id, draft: false });
    expect(r).toMatchObject({ draft: false, immutable: true });
    const up = await gh.rest.repos
      .uploadReleaseAsset({ owner: 'acme', repo: 'widget', release_id: r.id, url: `${fake.apiUrl.replace('/v3', '/uploads')}/repos/acme/widget/releases/${r.id}/assets{?name,label}`, name: 'b', data: 'b', headers: { 'content-type': 'text/plain', 'content-length': 1 } })
      .catch((e) => e);
    expect(up.status).toBe(422);
    expect(up.message).toMatch(/immutable/);
    await expect(gh.rest.repos.deleteReleaseAsset({ owner: 'acme', repo: 'widget', asset_id: a.id })).rejects.toMatchObject({ status: 422 });
    await expect(gh.rest.repos.createRelease({ owner: 'acme', repo: 'widget', tag_name: 'v1' })).rejects.toMatchObject({ status: 422 });
  });

  it('its schema check catches drift (e.g. an asset without digest, as in old recordings)', async () => {
    const r = fake.addRelease({ tag_name: 'v1', draft: false });
    const a = fake.addAsset(r, { name: 'a', content: Buffer.from('a') });
    // Break the shape on purpose, as an out-of-date fake would.
    const original = fake.assetJson.bind(fake);
    fake.assetJson = (rel, asset) => {
      const j = original(rel, asset);
      delete j.digest;
      j.state = 'done';
      return j;
    };
    await client().rest.repos.getReleaseAsset({ owner: 'acme', repo: 'widget', asset_id: a.id });
    expect(fake.violations.join('\n')).toMatch(/repos\/get-release-asset 200: .*digest/);
    expect(fake.violations.join('\n')).toMatch(/\/state must be equal to one of the allowed values/);
  });
});

describe('asset downloads, as GitHub documents them', () => {
  it('the API URL with Accept: application/octet-stream redirects to storage, which serves the uploaded bytes without a token', async () => {
    const release = (await client().rest.repos.createRelease({ owner: 'acme', repo: 'widget', tag_name: 'v1', draft: true })).data;
    const body = Buffer.from('the bytes of app.tar.gz\n');
    const up = await rawUpload(release.id, 'app.tar.gz', body.length, body);
    expect(up.status).toBe(201);
    const asset = JSON.parse(up.body) as { url: string };
    const first = await fetch(asset.url, { headers: { authorization: `token ${fake.token}`, accept: 'application/octet-stream' }, redirect: 'manual' });
    expect(first.status).toBe(302);
    const location = first.headers.get('location')!;
    expect(new URL(location).pathname).toMatch(/^\/storage\/assets\/\d+$/);
    const got = await fetch(location);
    expect(got.status).toBe(200);
    expect(Buffer.from(await got.arrayBuffer())).toEqual(body);
    // The pre-signed storage URL refuses a token it did not ask for.
    expect((await fetch(location, { headers: { authorization: `token ${fake.token}` } })).status).toBe(400);
    // Without the octet-stream Accept header, the API URL answers with the asset's JSON.
    const json = await fetch(asset.url, { headers: { authorization: `token ${fake.token}` } });
    expect(((await json.json()) as { name: string }).name).toBe('app.tar.gz');
    expect(fake.violations).toEqual([]);
  });
});
