import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MONOLITHIC_MAX, RegistryClient } from '../../src/oci/client.js';
import { OCI_CONFIG, OCI_LAYER_GZIP, OCI_MANIFEST, OCI_INDEX } from '../../src/oci/types.js';
import { sha256, startRegistry, type TestRegistry } from '../helpers/registry.js';

let reg: TestRegistry;
let client: RegistryClient;
const none = async () => undefined;

beforeAll(async () => {
  reg = await startRegistry();
  client = new RegistryClient({ credentials: none });
});
afterAll(async () => {
  await reg?.stop();
});

const repo = (repository: string) => ({ registry: reg.host, repository });

/** A deterministic pseudo-random stream of `size` bytes in 1 MiB pieces, and its digest. */
function randomSource(size: number, seed: string): { digest: string; open: () => Readable; opened: () => number } {
  const pieces: Buffer[] = [];
  const hash = createHash('sha256');
  let block = createHash('sha512').update(seed).digest();
  let left = size;
  while (left > 0) {
    const n = Math.min(left, 1 << 20);
    const piece = Buffer.alloc(n);
    for (let o = 0; o < n; o += 64) {
      block = createHash('sha512').update(block).digest();
      block.copy(piece, o, 0, Math.min(64, n - o));
    }
    pieces.push(piece);
    hash.update(piece);
    left -= n;
  }
  let opened = 0;
  return {
    digest: `sha256:${hash.digest('hex')}`,
    open: () => {
      opened++;
      return Readable.from(pieces);
    },
    opened: () => opened,
  };
}

async function pushImage(name: string, tag: string, layerText = 'layer'): Promise<{ manifest: Buffer; digest: string; configDigest: string }> {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
  const layer = Buffer.from(layerText);
  await client.pushBlob(repo(name), { digest: sha256(config), size: config.length }, () => config);
  await client.pushBlob(repo(name), { digest: sha256(layer), size: layer.length }, () => layer);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, digest: sha256(config), size: config.length },
      layers: [{ mediaType: OCI_LAYER_GZIP, digest: sha256(layer), size: layer.length }],
    }),
  );
  const { digest } = await client.putManifest(repo(name), tag, manifest, OCI_MANIFEST);
  return { manifest, digest, configDigest: sha256(config) };
}

describe('blobs', () => {
  it('pushes a small blob in one PUT, then finds it exists; HEAD gives its size, GET its bytes', async () => {
    const data = Buffer.from('hello registry\n');
    const desc = { digest: sha256(data), size: data.length };
    expect(await client.headBlob(repo('blobs/small'), desc.digest)).toBeUndefined();
    expect(await client.pushBlob(repo('blobs/small'), desc, () => data)).toBe('uploaded');
    expect(await client.pushBlob(repo('blobs/small'), desc, () => data)).toBe('exists');
    expect(await client.headBlob(repo('blobs/small'), desc.digest)).toBe(data.length);
    expect((await client.getBlobBytes(repo('blobs/small'), desc.digest)).toString()).toBe('hello registry\n');
  });

  it('pushes a ~40 MB stream in PATCH chunks and reads it back streamed with the same digest', async () => {
    const size = 40 * 1024 * 1024 + 12345;
    const src = randomSource(size, 'large');
    const result = await client.pushBlob(repo('blobs/large'), { digest: src.digest, size }, src.open, { chunkSize: 16 * 1024 * 1024 });
    expect(result).toBe('uploaded');
    expect(src.opened()).toBe(1);
    expect(await client.headBlob(repo('blobs/large'), src.digest)).toBe(size);
    const stream = await client.getBlob(repo('blobs/large'), src.digest);
    const hash = createHash('sha256');
    let count = 0;
    for await (const chunk of stream) {
      hash.update(chunk as Buffer);
      count += (chunk as Buffer).length;
    }
    expect(count).toBe(size);
    expect(`sha256:${hash.digest('hex')}`).toBe(src.digest);
  });

  it('without a chunk size: one PUT up to 64 MiB, one streamed PATCH above (checked through a recording proxy)', async () => {
    const { startProxy } = await import('../helpers/http-proxy.js');
    const proxy = await startProxy(reg.host, { recordBodies: false });
    try {
      const small = Buffer.from('one put');
      expect(await client.pushBlob({ registry: proxy.host, repository: 'blobs/default' }, { digest: sha256(small), size: small.length }, () => small)).toBe('uploaded');
      const size = MONOLITHIC_MAX + 1;
      const src = randomSource(size, 'default-large');
      expect(await client.pushBlob({ registry: proxy.host, repository: 'blobs/default' }, { digest: src.digest, size }, src.open)).toBe('uploaded');
      const uploads = proxy.requests.filter((r) => r.url.includes('/blobs/uploads/')).map((r) => `${r.method} ${r.headers['content-length'] ?? ''} ${r.headers['content-range'] ?? ''}`.trim());
      expect(uploads).toEqual(['POST 0', `PUT ${small.length}`, 'POST 0', `PATCH ${size} 0-${size - 1}`, 'PUT 0']);
    } finally {
      await proxy.stop();
    }
  });

  it('pushes a Buffer larger than the chunk size in chunks', async () => {
    const data = randomBytes(300_000);
    const desc = { digest: sha256(data), size: data.length };
    expect(await client.pushBlob(repo('blobs/chunked-buffer'), desc, () => data, { chunkSize: 100_000 })).toBe('uploaded');
    expect(Buffer.compare(await client.getBlobBytes(repo('blobs/chunked-buffer'), desc.digest), data)).toBe(0);
  });

  it('refuses a stream shorter or longer than the declared size, and a wrong digest (registry says DIGEST_INVALID)', async () => {
    const data = randomBytes(1000);
    await expect(
      client.pushBlob(repo('blobs/bad'), { digest: sha256(data), size: 1200 }, () => Readable.from([data]), { chunkSize: 500 }),
    ).rejects.toThrow(/blob sha256:[0-9a-f]{64}: content is 1000 bytes, expected 1200/);
    await expect(
      client.pushBlob(repo('blobs/bad'), { digest: sha256(data), size: 800 }, () => Readable.from([data]), { chunkSize: 500 }),
    ).rejects.toThrow(/content longer than its size 800/);
    const wrong = sha256('something else');
    const err = await client.pushBlob(repo('blobs/bad'), { digest: wrong, size: data.length }, () => data).catch((e: Error) => e);
    expect((err as Error).message).toBe(
      `push ${reg.host}/blobs/bad: blob upload failed: 400 DIGEST_INVALID: provided digest did not match uploaded content`,
    );
  });

  it('mounts a blob from another repository of the same registry', async () => {
    const data = Buffer.from('shared base layer');
    const desc = { digest: sha256(data), size: data.length };
    await client.pushBlob(repo('mount/source'), desc, () => data);
    let opened = 0;
    const result = await client.pushBlob(repo('mount/target'), desc, () => (opened++, data), { mountFrom: 'mount/source' });
    expect(result).toBe('mounted');
    expect(opened).toBe(0);
    expect(await client.headBlob(repo('mount/target'), desc.digest)).toBe(data.length);
  });

  it('falls back to an upload when the mount source lacks the blob', async () => {
    const data = Buffer.from('not in the source');
    const desc = { digest: sha256(data), size: data.length };
    expect(await client.pushBlob(repo('mount/target2'), desc, () => data, { mountFrom: 'mount/empty' })).toBe('uploaded');
    expect(await client.headBlob(repo('mount/target2'), desc.digest)).toBe(data.length);
  });

  it('getBlob of a missing blob is a one-line error naming it', async () => {
    const d = sha256('missing');
    await expect(client.getBlob(repo('blobs/small'), d)).rejects.toThrow(`pull ${reg.host}/blobs/small: blob ${d} not found`);
  });
});

describe('manifests', () => {
  it('PUT by tag, HEAD and GET by tag and by digest, all with the same digest', async () => {
    const { manifest, digest } = await pushImage('man/app', 'v1');
    expect(digest).toBe(sha256(manifest));
    const head = await client.headManifest(repo('man/app'), 'v1');
    expect(head).toEqual({ mediaType: OCI_MANIFEST, digest, size: manifest.length });
    const byTag = await client.getManifest(repo('man/app'), 'v1');
    expect(byTag?.descriptor).toEqual({ mediaType: OCI_MANIFEST, digest, size: manifest.length });
    expect(Buffer.compare(byTag!.bytes, manifest)).toBe(0);
    expect(byTag?.json.layers).toHaveLength(1);
    const byDigest = await client.getManifest(repo('man/app'), digest);
    expect(byDigest?.descriptor.digest).toBe(digest);
    expect(await client.headManifest(repo('man/app'), digest)).toMatchObject({ digest });
  });

  it('PUT by digest (an index over the image) and refuses bytes that do not match the digest reference', async () => {
    const { manifest, digest } = await pushImage('man/index', 'img');
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_INDEX,
        manifests: [{ mediaType: OCI_MANIFEST, digest, size: manifest.length, platform: { os: 'linux', architecture: 'amd64' } }],
      }),
    );
    const put = await client.putManifest(repo('man/index'), sha256(index), index, OCI_INDEX);
    expect(put.digest).toBe(sha256(index));
    const got = await client.getManifest(repo('man/index'), put.digest);
    expect(got?.descriptor.mediaType).toBe(OCI_INDEX);
    await expect(client.putManifest(repo('man/index'), sha256('x'), index, OCI_INDEX)).rejects.toThrow(/manifest bytes have digest sha256:[0-9a-f]{64}, not sha256:/);
  });

  it('a missing tag is undefined for HEAD and GET; a manifest naming missing blobs is refused with the registry code', async () => {
    expect(await client.headManifest(repo('man/app'), 'nope')).toBeUndefined();
    expect(await client.getManifest(repo('man/app'), 'nope')).toBeUndefined();
    const bad = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: { mediaType: OCI_CONFIG, digest: sha256('no config'), size: 9 },
        layers: [],
      }),
    );
    await expect(client.putManifest(repo('man/app'), 'bad', bad, OCI_MANIFEST)).rejects.toThrow(
      new RegExp(`^push ${reg.host}/man/app: manifest bad upload failed: 400 MANIFEST_BLOB_UNKNOWN`),
    );
  });

  it('deletes a manifest by digest; deleting it again is not an error', async () => {
    const { digest } = await pushImage('man/del', 'gone');
    await client.deleteManifest(repo('man/del'), digest);
    expect(await client.headManifest(repo('man/del'), digest)).toBeUndefined();
    await client.deleteManifest(repo('man/del'), digest);
  });

  it('rejects bad tags and digests before any request', async () => {
    await expect(client.getManifest(repo('man/app'), '.bad')).rejects.toThrow(`pull ${reg.host}/man/app: invalid tag ".bad"`);
    await expect(client.headBlob(repo('man/app'), 'md5:abc')).rejects.toThrow(/unsupported digest algorithm "md5"/);
    await expect(client.headBlob(repo('man/app'), 'sha256:abc')).rejects.toThrow(/sha256 digest must be 64 lowercase hex characters/);
  });
});

describe('tags and referrers', () => {
  it('lists every tag of a repository (paging itself is covered in faults.test.ts: distribution 2.8 does not page tags)', async () => {
    const tags = Array.from({ length: 23 }, (_, i) => `t${String(i).padStart(2, '0')}`);
    const { manifest } = await pushImage('tags/app', tags[0]!);
    for (const t of tags.slice(1)) await client.putManifest(repo('tags/app'), t, manifest, OCI_MANIFEST);
    const paged = new RegistryClient({ credentials: none, pageSize: 5 });
    expect((await paged.listTags(repo('tags/app'))).sort()).toEqual(tags);
    expect(await client.listTags(repo('tags/never-pushed'))).toEqual([]);
  });

  it('referrers: distribution 2.8 has no referrers API → supported: false', async () => {
    const { digest } = await pushImage('refs/app', 'v1');
    expect(await client.getReferrers(repo('refs/app'), digest)).toEqual({ supported: false, manifests: [] });
  });
});
