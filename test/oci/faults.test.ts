import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type net from 'node:net';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../src/oci/client.js';
import { OCI_CONFIG, OCI_MANIFEST } from '../../src/oci/types.js';
import { startProxy, type TestProxy } from '../helpers/http-proxy.js';
import { freePort, sha256, startRegistry, type TestRegistry } from '../helpers/registry.js';

let reg: TestRegistry;
const none = async () => undefined;
const fast = { baseMs: 1, maxMs: 20 };
const client = () => new RegistryClient({ credentials: none, backoff: fast });

beforeAll(async () => {
  reg = await startRegistry();
});
afterAll(async () => reg?.stop());

async function withProxy<T>(hooks: Parameters<typeof startProxy>[1], fn: (p: TestProxy) => Promise<T>): Promise<T> {
  const p = await startProxy(reg.host, hooks);
  try {
    return await fn(p);
  } finally {
    await p.stop();
  }
}

async function seedImage(repository: string): Promise<{ blob: Buffer; blobDigest: string; manifestDigest: string }> {
  const c = client();
  const repo = { registry: reg.host, repository };
  const blob = Buffer.from(`{"seed":"${repository}"}`);
  await c.pushBlob(repo, { digest: sha256(blob), size: blob.length }, () => blob);
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: OCI_CONFIG, digest: sha256(blob), size: blob.length }, layers: [] }));
  const { digest } = await c.putManifest(repo, 'v1', manifest, OCI_MANIFEST);
  return { blob, blobDigest: sha256(blob), manifestDigest: digest };
}

describe('tampered content is detected', () => {
  it('a blob served with altered bytes fails the stream with a one-line digest error', async () => {
    const { blobDigest } = await seedImage('tamper/blob');
    await withProxy(
      { transform: (req, status, body) => (req.url.includes('/blobs/') && status === 200 ? Buffer.from(body.toString().replace('seed', 'SEED')) : undefined) },
      async (p) => {
        const repo = { registry: p.host, repository: 'tamper/blob' };
        const err = (await client().getBlobBytes(repo, blobDigest).catch((e) => e)) as Error;
        expect(err.message).toMatch(new RegExp(`^pull ${p.host}/tamper/blob: blob ${blobDigest}: content does not match its digest \\(got sha256:[0-9a-f]{64}\\)$`));
        const stream = await client().getBlob(repo, blobDigest);
        await expect(async () => {
          for await (const _ of stream) void _;
        }).rejects.toThrow(/content does not match its digest/);
      },
    );
  });

  it('a manifest fetched by digest with altered bytes is refused; by tag, a body not matching Docker-Content-Digest too', async () => {
    const { manifestDigest } = await seedImage('tamper/manifest');
    await withProxy(
      { transform: (req, status, body) => (req.url.includes('/manifests/') && status === 200 && req.method === 'GET' ? Buffer.from(body.toString().replace('"layers":[]', '"layers": []')) : undefined) },
      async (p) => {
        const repo = { registry: p.host, repository: 'tamper/manifest' };
        await expect(client().getManifest(repo, manifestDigest)).rejects.toThrow(`manifest ${manifestDigest}: content does not match its digest`);
        await expect(client().getManifest(repo, 'v1')).rejects.toThrow(`differs from the registry's ${manifestDigest}`);
      },
    );
  });

  it('a blob longer than the size asked for is cut off with an error', async () => {
    const { blobDigest, blob } = await seedImage('tamper/size');
    const stream = await client().getBlob({ registry: reg.host, repository: 'tamper/size' }, blobDigest, { size: blob.length - 1 });
    await expect(async () => {
      for await (const _ of stream) void _;
    }).rejects.toThrow(`more bytes than the expected ${blob.length - 1}`);
  });
});

describe('retries', () => {
  it('503 twice on the upload PUT: the upload restarts, open() is called again and the body re-sent each time', async () => {
    let failures = 0;
    const data = randomBytes(5000);
    const digest = sha256(data);
    await withProxy(
      {
        intercept: (req) => (req.method === 'PUT' && req.url.includes('/blobs/uploads/') && failures++ < 2 ? { status: 503, body: 'busy' } : undefined),
      },
      async (p) => {
        let opened = 0;
        const result = await client().pushBlob({ registry: p.host, repository: 'retry/put' }, { digest, size: data.length }, () => {
          opened++;
          return Readable.from([data.subarray(0, 1000), data.subarray(1000)]);
        });
        expect(result).toBe('uploaded');
        expect(opened).toBe(3);
        const puts = p.requests.filter((r) => r.method === 'PUT');
        expect(puts).toHaveLength(3);
        for (const put of puts) expect(createHash('sha256').update(put.body).digest('hex')).toBe(digest.slice(7));
      },
    );
    expect(await client().headBlob({ registry: reg.host, repository: 'retry/put' }, digest)).toBe(data.length);
  });

  it('a manifest PUT refused while a blob it names settles (DIGEST_INVALID, MANIFEST_BLOB_UNKNOWN) is sent again; a wrong one fails after 3', async () => {
    const { blobDigest, blob } = await seedImage('retry/manifest');
    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: OCI_CONFIG, digest: blobDigest, size: blob.length }, layers: [] }));
    const answers = ['DIGEST_INVALID', 'MANIFEST_BLOB_UNKNOWN'];
    await withProxy(
      {
        intercept: (req) => {
          const code = req.method === 'PUT' && req.url.includes('/manifests/') ? answers.shift() : undefined;
          return code ? { status: 400, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ errors: [{ code, message: 'not yet' }] }) } : undefined;
        },
      },
      async (p) => {
        const { digest } = await client().putManifest({ registry: p.host, repository: 'retry/manifest' }, 'v2', manifest, OCI_MANIFEST);
        expect(p.requests.filter((r) => r.method === 'PUT')).toHaveLength(3);
        expect(digest).toBe(sha256(manifest));
      },
    );
    expect(await client().headManifest({ registry: reg.host, repository: 'retry/manifest' }, 'v2')).toMatchObject({ digest: sha256(manifest) });
    // A manifest naming a blob that never existed: the registry's answer, after three attempts.
    const missing = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: OCI_CONFIG, digest: sha256('never pushed'), size: 12 }, layers: [] }));
    await withProxy({}, async (p) => {
      await expect(client().putManifest({ registry: p.host, repository: 'retry/manifest' }, 'v3', missing, OCI_MANIFEST)).rejects.toThrow(/manifest v3 upload failed: 400 MANIFEST_BLOB_UNKNOWN/);
      expect(p.requests.filter((r) => r.method === 'PUT')).toHaveLength(3);
    });
  });

  it('a 503 on a chunk PATCH restarts the chunked upload from the first byte', async () => {
    let failed = false;
    const data = randomBytes(3000);
    const digest = sha256(data);
    await withProxy(
      {
        intercept: (req) => {
          if (req.method === 'PATCH' && req.headers['content-range'] === '1000-1999' && !failed) {
            failed = true;
            return { status: 502 };
          }
          return undefined;
        },
      },
      async (p) => {
        let opened = 0;
        const r = await client().pushBlob({ registry: p.host, repository: 'retry/patch' }, { digest, size: data.length }, () => (opened++, Readable.from([data])), { chunkSize: 1000 });
        expect(r).toBe('uploaded');
        expect(opened).toBe(2);
        expect(p.requests.filter((q) => q.method === 'PATCH').map((q) => q.headers['content-range'])).toEqual(['0-999', '1000-1999', '0-999', '1000-1999', '2000-2999']);
      },
    );
  });

  it('a connection reset during the upload PUT restarts the upload; on a GET it is retried', async () => {
    const data = randomBytes(4000);
    let puts = 0;
    let gets = 0;
    await withProxy(
      { reset: (req) => (req.method === 'PUT' && ++puts === 1) || (req.method === 'GET' && req.url.includes('/blobs/') && ++gets === 1) },
      async (p) => {
        let opened = 0;
        const repo = { registry: p.host, repository: 'retry/reset' };
        expect(await client().pushBlob(repo, { digest: sha256(data), size: data.length }, () => (opened++, Readable.from([data])))).toBe('uploaded');
        expect(opened).toBe(2);
        expect(Buffer.compare(await client().getBlobBytes(repo, sha256(data)), data)).toBe(0);
        expect(gets).toBe(2);
      },
    );
  });

  it('a registry that drops a chunk (its Range does not advance) fails the upload with a clear error', async () => {
    const data = randomBytes(3000);
    let patches = 0;
    await withProxy(
      {
        intercept: (req) =>
          req.method === 'PATCH' && ++patches === 2
            ? { status: 202, headers: { location: req.url, range: '0-999', 'content-length': '0' } }
            : undefined,
      },
      async (p) => {
        const err = (await client()
          .pushBlob({ registry: p.host, repository: 'retry/range' }, { digest: sha256(data), size: data.length }, () => data, { chunkSize: 1000 })
          .catch((e) => e)) as Error;
        expect(err.message).toBe(`push ${p.host}/retry/range: blob ${sha256(data)}: registry holds 1000 bytes after a chunk ending at 2000`);
      },
    );
  });

  it('429 with Retry-After and 500 on GET are retried; gives up after `retries` with the registry status', async () => {
    const { manifestDigest } = await seedImage('retry/get');
    let n = 0;
    await withProxy(
      { intercept: (req) => (req.url.includes('/manifests/') && n++ < 2 ? { status: n === 1 ? 429 : 500, headers: { 'retry-after': '0' } } : undefined) },
      async (p) => {
        const got = await client().getManifest({ registry: p.host, repository: 'retry/get' }, 'v1');
        expect(got?.descriptor.digest).toBe(manifestDigest);
        expect(p.requests.filter((r) => r.url.includes('/manifests/'))).toHaveLength(3);
      },
    );
    await withProxy(
      { intercept: () => ({ status: 503, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ errors: [{ code: 'UNAVAILABLE', message: 'maintenance\nwindow' }] }) }) },
      async (p) => {
        const c = new RegistryClient({ credentials: none, backoff: fast, retries: 2 });
        const err = (await c.getManifest({ registry: p.host, repository: 'retry/get' }, 'v1').catch((e) => e)) as Error;
        expect(err.message).toBe(`pull ${p.host}/retry/get: manifest v1: 503 UNAVAILABLE: maintenance window`);
        expect(p.requests).toHaveLength(3);
      },
    );
  });

  it('honours the AbortSignal while backing off', async () => {
    await withProxy({ intercept: () => ({ status: 503 }) }, async (p) => {
      const ac = new AbortController();
      const c = new RegistryClient({ credentials: none, backoff: { baseMs: 60_000, maxMs: 60_000 }, signal: ac.signal });
      const pending = c.listTags({ registry: p.host, repository: 'x' });
      setTimeout(() => ac.abort(), 50);
      await expect(pending).rejects.toThrow('interrupted');
    });
  });
});

describe('redirects and connection errors', () => {
  it('follows a blob redirect to another host without sending Authorization there', async () => {
    const blob = Buffer.from('stored elsewhere');
    const digest = sha256(blob);
    const storageSeen: http.IncomingHttpHeaders[] = [];
    const storage = http.createServer((req, res) => {
      storageSeen.push(req.headers);
      res.writeHead(200, { 'content-length': String(blob.length) });
      res.end(blob);
    });
    await new Promise<void>((r) => storage.listen(0, '127.0.0.1', r));
    const storagePort = (storage.address() as net.AddressInfo).port;
    const front = http.createServer((req, res) => {
      if (req.headers.authorization !== `Basic ${Buffer.from('u:front-pw').toString('base64')}`) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="front"' });
        return res.end();
      }
      res.writeHead(307, { location: `http://localhost:${storagePort}/bucket/${digest}?sig=1` });
      res.end();
    });
    await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
    const host = `127.0.0.1:${(front.address() as net.AddressInfo).port}`;
    try {
      const c = new RegistryClient({ credentials: async () => ({ username: 'u', password: 'front-pw' }), backoff: fast });
      expect((await c.getBlobBytes({ registry: host, repository: 'r' }, digest)).toString()).toBe('stored elsewhere');
      expect(storageSeen).toHaveLength(1);
      expect(storageSeen[0]?.authorization).toBeUndefined();
    } finally {
      front.close();
      storage.close();
    }
  });

  it('reads referrers from a registry that has the API, filtering by artifactType when the registry did not', async () => {
    const subject = sha256('subject');
    const index = {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        { mediaType: OCI_MANIFEST, digest: sha256('sig'), size: 10, artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json' },
        { mediaType: OCI_MANIFEST, digest: sha256('sbom'), size: 11, artifactType: 'application/spdx+json' },
        { mediaType: OCI_MANIFEST, digest: 'not a digest' },
      ],
    };
    const urls: string[] = [];
    const fake = http.createServer((req, res) => {
      urls.push(req.url ?? '');
      res.writeHead(200, { 'content-type': 'application/vnd.oci.image.index.v1+json' });
      res.end(JSON.stringify(index));
    });
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
    const host = `127.0.0.1:${(fake.address() as net.AddressInfo).port}`;
    try {
      const all = await client().getReferrers({ registry: host, repository: 'app' }, subject);
      expect(all).toEqual({ supported: true, manifests: index.manifests.slice(0, 2) });
      const sigs = await client().getReferrers({ registry: host, repository: 'app' }, subject, 'application/vnd.dev.sigstore.bundle.v0.3+json');
      expect(sigs.manifests.map((m) => m.digest)).toEqual([sha256('sig')]);
      expect(urls[1]).toBe(`/v2/app/referrers/${subject}?artifactType=application%2Fvnd.dev.sigstore.bundle.v0.3%2Bjson`);
    } finally {
      fake.close();
    }
  });

  it('an unreachable registry is one line: cannot connect (ECONNREFUSED)', async () => {
    const port = await freePort();
    const err = (await client().headBlob({ registry: `127.0.0.1:${port}`, repository: 'x' }, sha256('x')).catch((e) => e)) as Error;
    expect(err.message).toBe(`registry 127.0.0.1:${port}: cannot connect (ECONNREFUSED)`);
    // fetch refuses some ports outright (the WHATWG "bad ports" list); the reason is shown, not "fetch failed".
    const bad = (await client().headBlob({ registry: '127.0.0.1:1', repository: 'x' }, sha256('x')).catch((e) => e)) as Error;
    expect(bad.message).toBe('registry 127.0.0.1:1: cannot connect (bad port)');
  });

  it('refuses plain http for a non-loopback host unless it is listed as insecure', () => {
    const c = new RegistryClient({ credentials: none, insecureRegistries: ['registry.internal:5000'] });
    expect(c.allowHttp('registry.internal:5000')).toBe(true);
    expect(c.allowHttp('registry.internal')).toBe(false);
    expect(c.allowHttp('ghcr.io')).toBe(false);
    expect(c.allowHttp('localhost:5000')).toBe(true);
    expect(c.allowHttp('127.8.9.10:80')).toBe(true);
    expect(c.allowHttp('[::1]:5000')).toBe(true);
    expect(c.allowHttp('127.0.0.1.nip.io')).toBe(false);
  });

  it('tag listing follows Link pages (distribution 2.8 does not page tags, so a small fake does) and stops a loop', async () => {
    const all = Array.from({ length: 12 }, (_, i) => `p${i}`);
    const seen: string[] = [];
    let loop = false;
    const fake = http.createServer((req, res) => {
      seen.push(req.url ?? '');
      const url = new URL(req.url ?? '/', 'http://x');
      const n = Number(url.searchParams.get('n'));
      const last = url.searchParams.get('last');
      const start = last ? all.indexOf(last) + 1 : 0;
      const page = all.slice(start, start + n);
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (loop) headers.link = `<${url.pathname}?n=${n}>; rel="next"`;
      else if (start + n < all.length) headers.link = `<${url.pathname}?n=${n}&last=${page[page.length - 1]}>; rel="next"`;
      res.writeHead(200, headers);
      res.end(JSON.stringify({ name: 'pages/app', tags: page }));
    });
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
    const host = `127.0.0.1:${(fake.address() as net.AddressInfo).port}`;
    try {
      const paged = new RegistryClient({ credentials: none, pageSize: 5 });
      expect(await paged.listTags({ registry: host, repository: 'pages/app' })).toEqual(all);
      expect(seen).toEqual(['/v2/pages/app/tags/list?n=5', '/v2/pages/app/tags/list?n=5&last=p4', '/v2/pages/app/tags/list?n=5&last=p9']);
      loop = true;
      await expect(paged.listTags({ registry: host, repository: 'pages/app' })).rejects.toThrow(`list ${host}/pages/app: tag list pagination loops`);
    } finally {
      fake.close();
    }
  });
});
