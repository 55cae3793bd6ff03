/**
 * Replays of real recorded GitHub traffic (@octokit/fixtures via
 * @octokit/fixtures-server, in-process on 127.0.0.1) driven through
 * relsign's own client, ReleaseApi and uploadAsset. The server matches
 * method, path, query, body and headers strictly (accept, authorization,
 * content-type, content-length) and serves the fixtures in order, so the
 * wire format of relsign's uploads is checked against what GitHub accepted.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_RETRY, createGitHubClient } from '../../src/github/client.js';
import { type LocalAsset, ReleaseApi, prepareAssets, uploadAsset } from '../../src/github/releases.js';
import { RelsignError } from '../../src/util/errors.js';
import { fakeClock, makeFiles, tempDir } from './helpers.js';

// The recorded token and repository (inputs adapted to the recordings).
const TOKEN = '0000000000000000000000000000000000000001';
const OWNER = 'octokit-fixture-org';

let server: Server;
let base: string;
let asset: LocalAsset;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  // Untyped packages (dev only): load by computed specifier.
  const express = ((await import('express' as string)) as { default: () => any }).default;
  const fixturesServer = ((await import('@octokit/fixtures-server' as string)) as { default: (o: object) => unknown }).default;
  const app = express();
  server = await new Promise<Server>((resolve) => {
    const s: Server = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  app.use(fixturesServer({ fixturesUrl: base, logLevel: 'silent', ttl: 60_000 }));

  const t = await tempDir();
  cleanup = t.cleanup;
  // The recorded upload: test-upload.txt, label "test", text/plain, 14 bytes.
  const [path] = await makeFiles(t.dir, { 'test-upload.txt': 'Hello, world!\n' });
  [asset] = await prepareAssets([{ path: path!, label: 'test' }]);
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  await cleanup?.();
});

async function scenario(name: string): Promise<{ id: string; url: string }> {
  const res = await fetch(`${base}/fixtures`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ scenario: name }),
  });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string; url: string };
}

function releaseApi(url: string, repo: string) {
  const client = createGitHubClient({ token: TOKEN, apiUrl: url });
  // The recordings list assets without per_page, so use the server default page size here.
  const api = new ReleaseApi(client, OWNER, repo, { retry: { ...DEFAULT_RETRY, attempts: 1 }, clock: fakeClock(), perPage: 0 });
  return { client, api };
}

/** When every recorded request was consumed, the server forgets the scenario. */
async function expectScenarioDone(s: { id: string; url: string }, repo: string): Promise<void> {
  const res = await fetch(`${s.url}/repos/${OWNER}/${repo}/releases/tags/v1.0.0`, { headers: { accept: 'application/vnd.github.v3+json' } });
  expect(res.status).toBe(404);
  expect(await res.json()).toEqual({ error: `Fixture "${s.id}" not found` });
}

describe('recorded GitHub traffic (@octokit/fixtures-server)', () => {
  it('release-assets: find release → streamed upload → list + verify → get, edit, delete', async () => {
    const s = await scenario('release-assets');
    const { client, api } = releaseApi(s.url, 'release-assets');

    const release = await api.findPublished('v1.0.0');
    expect(release).toMatchObject({ id: 1000, tag_name: 'v1.0.0', draft: false });
    // Uploads go to the upload_url the API returned (rewritten by the server to its uploads.github.com proxy).
    expect(release!.upload_url).toContain('/uploads.github.com/');

    const up = await uploadAsset(api, release!, asset, { replaceExisting: false });
    expect(up.status).toBe('uploaded');
    expect(up.asset).toMatchObject({ id: 1000, name: 'test-upload.txt', label: 'test', size: 14, state: 'uploaded' });

    const listed = await api.listAssets(release!.id);
    expect(listed.map((a) => [a.name, a.size, a.state])).toEqual([['test-upload.txt', 14, 'uploaded']]);
    // Recorded in 2022: no digest yet. relsign then cannot prove identity by digest.
    expect(listed[0]!.digest).toBeUndefined();

    // The rest of the recording, through the same client relsign configures.
    const got = await client.rest.repos.getReleaseAsset({ owner: OWNER, repo: 'release-assets', asset_id: 1000 });
    expect(got.data.name).toBe('test-upload.txt');
    const edited = await client.rest.repos.updateReleaseAsset({
      owner: OWNER,
      repo: 'release-assets',
      asset_id: 1000,
      name: 'new-filename.txt',
      label: 'new label',
    });
    expect(edited.data).toMatchObject({ name: 'new-filename.txt', label: 'new label' });
    await api.deleteAsset(1000);

    await expectScenarioDone(s, 'release-assets');
  });

  it('release-assets-conflict: 422 already_exists → list → delete → re-upload (replace_existing_artifacts)', async () => {
    const s = await scenario('release-assets-conflict');
    const { api } = releaseApi(s.url, 'release-assets-conflict');
    const release = await api.findPublished('v1.0.0');
    const deleted: number[] = [];
    const up = await uploadAsset(api, release!, asset, { replaceExisting: true, onDelete: (r) => deleted.push(r.id) });
    expect(up.status).toBe('replaced');
    expect(up.asset).toMatchObject({ id: 1001, name: 'test-upload.txt', size: 14 });
    expect(deleted).toEqual([1000]);
    await expectScenarioDone(s, 'release-assets-conflict');
  });

  it('release-assets-conflict without replace_existing_artifacts: a clear error, nothing deleted', async () => {
    const s = await scenario('release-assets-conflict');
    const { api } = releaseApi(s.url, 'release-assets-conflict');
    const release = await api.findPublished('v1.0.0');
    const err = await uploadAsset(api, release!, asset, { replaceExisting: false }).catch((e) => e);
    expect(err).toBeInstanceOf(RelsignError);
    expect(err.message).toBe(
      'asset test-upload.txt already exists on release v1.0.0 and the server reports no digest, so it cannot be proven identical (size 14 vs 14); set release.replace_existing_artifacts: true to replace it',
    );
  });

  it('matching is strict: a different content type is not what GitHub recorded', async () => {
    const s = await scenario('release-assets');
    const { api } = releaseApi(s.url, 'release-assets');
    const release = await api.findPublished('v1.0.0');
    const err = await uploadAsset(api, release!, { ...asset, contentType: 'application/octet-stream' }, { replaceExisting: false }).catch((e) => e);
    expect(err).toBeInstanceOf(RelsignError);
    expect(err.message).toMatch(/uploading test-upload\.txt failed: HTTP 404/);
  });
});
