import { createReadStream } from 'node:fs';
import { PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { mapLimit } from '../../util/concurrency.js';
import { RelsignError, describeError } from '../../util/errors.js';
import type { RegistryClient, RepoRef } from '../client.js';
import { formatReference } from '../reference.js';
import type { Descriptor } from '../types.js';
import type { BaseImage } from './base.js';
import type { BuiltImage } from './image.js';
import type { OciLayout } from './layout.js';

/**
 * Downloads base layers into the layout, once per digest, only when asked:
 * a layer the target registry already has (or can mount) is never fetched.
 */
export class BaseLayerFetcher {
  private readonly pending = new Map<string, Promise<void>>();
  constructor(
    private readonly client: RegistryClient,
    private readonly layout: OciLayout,
    private readonly base: BaseImage | undefined,
  ) {}

  fetch(desc: Descriptor): Promise<void> {
    let p = this.pending.get(desc.digest);
    if (!p) {
      p = (async () => {
        if (await this.layout.hasBlob(desc.digest, desc.size)) return;
        if (!this.base) throw new Error(`blob ${desc.digest} is not in the layout`);
        const stream = await this.client.getBlob(this.base.repo, desc.digest, { size: desc.size });
        await this.layout.writeStream(stream, desc);
      })();
      this.pending.set(desc.digest, p);
      p.catch(() => this.pending.delete(desc.digest));
    }
    return p;
  }

  /** Every base layer of the image, so the layout is complete (snapshots, push: false). */
  async fetchAll(image: BuiltImage, parallelism: number): Promise<void> {
    const all = new Map<string, Descriptor>();
    for (const m of image.manifests) for (const l of m.baseLayers) all.set(l.digest, l);
    await mapLimit([...all.values()], parallelism, (d) => this.fetch(d));
  }
}

export interface PushOptions {
  client: RegistryClient;
  layout: OciLayout;
  image: BuiltImage;
  repositories: readonly RepoRef[];
  tags: readonly string[];
  base?: BaseImage;
  fetcher: BaseLayerFetcher;
  parallelism: number;
  log?: (msg: string) => void;
}

/**
 * Pushes a built image to every repository: missing blobs first (base layers
 * mounted from the base's repository or from a repository pushed before on
 * the same registry; otherwise streamed from the layout, downloading a base
 * layer into it first when needed), then the platform manifests by digest,
 * then the index by digest. Only when every repository has the whole image
 * are the tags written, so no tag ever names a half-pushed image.
 */
export async function pushImage(o: PushOptions): Promise<void> {
  const done: RepoRef[] = [];
  for (const repo of o.repositories) {
    await named(repo, o.tags[0], () => pushContent(o, repo, done));
    done.push(repo);
  }
  const top = o.image.top;
  for (const repo of o.repositories) {
    for (const tag of o.tags) {
      await named(repo, tag, () => o.client.putManifest(repo, tag, top.bytes, top.descriptor.mediaType));
      o.log?.(`  pushed ${formatReference({ ...repo, tag })}@${top.descriptor.digest}`);
    }
  }
}

/**
 * A split's push: blobs and platform manifests by digest to every
 * repository, no index and no tag. The merge assembles the index from every
 * split's manifests and writes the tags, so nothing is pullable by tag
 * before the whole image is there.
 */
export async function pushPlatformManifests(o: Omit<PushOptions, 'tags'>): Promise<void> {
  const done: RepoRef[] = [];
  for (const repo of o.repositories) {
    await named(repo, undefined, () => pushContent(o, repo, done, false));
    done.push(repo);
  }
}

/** Errors name the image being pushed (`cannot push reg/repo:tag: …`), on one line. */
async function named<T>(repo: RepoRef, tag: string | undefined, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw new RelsignError(`cannot push ${formatReference({ ...repo, ...(tag ? { tag } : {}) })}: ${describeError(err)}`, { cause: err });
  }
}

/** Blobs, platform manifests and (unless a split's) the index of one repository: everything but the tags. */
async function pushContent(o: Omit<PushOptions, 'tags'>, repo: RepoRef, done: readonly RepoRef[], withIndex = true): Promise<void> {
  const where = formatReference(repo);
  const blobs = new Map<string, { desc: Descriptor; fromBase: boolean }>();
  for (const m of o.image.manifests) {
    const baseDigests = new Set(m.baseLayers.map((l) => l.digest));
    for (const d of [m.config, ...m.layers]) {
      if (!blobs.has(d.digest)) blobs.set(d.digest, { desc: d, fromBase: baseDigests.has(d.digest) });
    }
  }
  const sibling = done.find((r) => r.registry === repo.registry);
  const results = await mapLimit([...blobs.values()], o.parallelism, async ({ desc, fromBase }) => {
    const mountFrom =
      fromBase && o.base && o.base.repo.registry === repo.registry ? o.base.repo.repository : sibling?.repository;
    const open = (): NodeJS.ReadableStream => {
      if (!fromBase) return createReadStream(o.layout.blobPath(desc.digest));
      // A base layer: from the layout, after downloading it there if it is not yet.
      const out = new PassThrough();
      o.fetcher.fetch(desc).then(
        () => pipeline(createReadStream(o.layout.blobPath(desc.digest)), out).catch((err: Error) => out.destroy(err)),
        (err: Error) => out.destroy(err),
      );
      return out;
    };
    return o.client.pushBlob(repo, { digest: desc.digest, size: desc.size }, open, mountFrom ? { mountFrom } : {});
  });
  const count = (k: string): number => results.filter((r) => r === k).length;
  o.log?.(`  ${where}: ${count('uploaded')} blobs uploaded, ${count('mounted')} mounted, ${count('exists')} already there`);
  for (const m of o.image.manifests) await o.client.putManifest(repo, m.descriptor.digest, m.bytes, m.descriptor.mediaType);
  if (withIndex && o.image.index) await o.client.putManifest(repo, o.image.index.descriptor.digest, o.image.index.bytes, o.image.index.descriptor.mediaType);
}
