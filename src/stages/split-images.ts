import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, rm, rmdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { ImageConfig, RelsignConfig } from '../config/types.js';
import { imageIndex } from '../oci/build/image.js';
import { OciLayout } from '../oci/build/layout.js';
import type { ImagePlatform } from '../oci/build/platform.js';
import { pushPlatformManifests } from '../oci/build/push.js';
import type { RegistryClient, RepoRef } from '../oci/client.js';
import { formatReference } from '../oci/reference.js';
import { OCI_INDEX, OCI_MANIFEST, type Descriptor } from '../oci/types.js';
import type { Context } from '../pipeline/context.js';
import { registryClient } from '../pipeline/registry.js';
import { readBoundedBytes, type LoadedPart, type PartImage, type PartImagePlatform } from '../pipeline/split.js';
import type { Stage } from '../pipeline/stage.js';
import { RelsignError, describeError } from '../util/errors.js';
import { isWithin, realLocation } from '../util/fs.js';
import { parseTarget } from './build.js';
import {
  buildPlanned,
  checkImageId,
  imagePlatforms,
  imagePushes,
  imagesStage,
  planImage,
  registerImage,
  renderRepositories,
  renderTags,
  runImage,
} from './images.js';

/**
 * Images across split runs. Each split builds the platforms whose binaries
 * it built and pushes their blobs and platform manifests by digest (no tag,
 * no index); the merge checks that every platform manifest is in the
 * registry as recorded, assembles the index exactly as a single run would
 * (same bytes, same digest), pushes it by digest and then writes the tags.
 */

/** Largest platform manifest or image config read back from a registry or a part's layout. */
const MAX_JSON_BLOB = 4 << 20;
/** Most layers a platform manifest from a part may name. */
const MAX_LAYERS = 1000;

/** The configured build targets whose binaries give image `cfg` its `p` platform. */
export function targetsForPlatform(config: RelsignConfig, cfg: ImageConfig, p: ImagePlatform): string[] {
  const out: string[] = [];
  for (const b of config.builds) {
    if (cfg.ids.length > 0 && !cfg.ids.includes(b.id)) continue;
    for (const t of b.targets) {
      let parsed;
      try {
        parsed = parseTarget(t, 'builds[].targets');
      } catch {
        continue;
      }
      if (parsed.os === p.os && parsed.arch === p.arch && (p.arch !== 'arm' || parsed.arm === p.arm) && !out.includes(t)) out.push(t);
    }
  }
  return out;
}

/** An image no build target feeds (files only): nothing is split about it, the merge builds it whole. */
function builtByMerge(config: RelsignConfig, cfg: ImageConfig, platforms: readonly ImagePlatform[]): boolean {
  return platforms.every((p) => targetsForPlatform(config, cfg, p).length === 0);
}

const recorded = new WeakMap<Context, PartImage[]>();
/** What the split's images stage recorded, for context.json. */
export function splitImagesOf(ctx: Context): PartImage[] {
  return recorded.get(ctx) ?? [];
}

const mergedParts = new WeakMap<Context, readonly LoadedPart[]>();
/** The checked parts of a merge run (set by the merge-input stage). */
export function setMergedParts(ctx: Context, parts: readonly LoadedPart[]): void {
  mergedParts.set(ctx, parts);
}

/**
 * `release --split`: per image, the platforms whose binaries this split
 * built. Pushed by digest only, unless --snapshot or `push: false`, where the
 * OCI layout in the part is what the merge reads.
 */
export const splitImagesStage: Stage = {
  name: imagesStage.name,
  description: "building this split's image platforms",
  skip: (ctx) => imagesStage.skip(ctx),
  async run(ctx) {
    const client = registryClient(ctx);
    const out: PartImage[] = [];
    for (const [i, cfg] of ctx.config.images.entries()) {
      const where = `images[${i}]`;
      checkImageId(cfg, where);
      if (builtByMerge(ctx.config, cfg, imagePlatforms(cfg, where))) {
        ctx.log.info(`  ${where} (${cfg.id}): no build binaries go in it; the merge builds it`);
        continue;
      }
      const plan = await planImage(ctx, client, cfg, where, 'here');
      if (!plan) continue;
      const { image, layout, fetcher, layoutRel } = await buildPlanned(ctx, client, plan);
      const names = plan.platforms.map((p) => p.name).join(', ');
      if (plan.push) {
        try {
          await pushPlatformManifests({
            client,
            layout,
            image,
            repositories: plan.repositories,
            ...(plan.base ? { base: plan.base } : {}),
            fetcher,
            parallelism: Math.max(1, ctx.options.parallelism),
            log: (m) => ctx.log.info(m),
          });
        } catch (err) {
          throw new RelsignError(`${where}: ${describeError(err)}`, { cause: err });
        }
        // The registry holds the image now: the part stays small (it is uploaded as a CI artifact).
        await rm(layout.dir, { recursive: true, force: true });
        await rmdir(join(ctx.distDir, 'images')).catch(() => undefined);
        for (const m of image.manifests) ctx.log.info(`  ${plan.repositories.map((r) => formatReference(r)).join(', ')}@${m.descriptor.digest} (${m.platform.name}; by digest, no tag)`);
      } else {
        ctx.log.info(`  ${cfg.id} (${names}) → ${layoutRel}; not pushed (${ctx.options.snapshot ? '--snapshot' : 'push: false'})`);
      }
      out.push({
        id: cfg.id,
        pushed: plan.push,
        repositories: plan.repositories.map((r) => formatReference(r)),
        platforms: image.manifests.map((m) => ({ platform: m.platform.name, digest: m.descriptor.digest, size: m.descriptor.size, media_type: m.descriptor.mediaType })),
        ...(plan.push ? {} : { layout: `images/${cfg.id}` }),
      });
    }
    recorded.set(ctx, out);
  },
};

/** One platform as a merge found it: the part that built it and the manifest it pushed or wrote. */
interface MergedPlatform {
  platform: ImagePlatform;
  part: LoadedPart;
  record: PartImagePlatform;
  layout?: string;
  bytes: Buffer;
  annotations: Record<string, string>;
}

interface MergePlan {
  cfg: ImageConfig;
  where: string;
  repositories: RepoRef[];
  tags: string[];
  push: boolean;
  platforms: MergedPlatform[];
}

/**
 * `continue --merge`: checks every image's platforms from the parts, then
 * assembles, pushes and tags them (or, for snapshot parts, combines their
 * layouts into dist/images/<id>). Every check runs before anything is
 * pushed, so a refused merge leaves no index and no tag.
 */
export const mergeImagesStage: Stage = {
  name: imagesStage.name,
  description: 'assembling images from the split parts',
  skip: (ctx) => imagesStage.skip(ctx),
  async run(ctx) {
    const parts = mergedParts.get(ctx);
    if (!parts) throw new RelsignError('continue --merge: no merged parts (internal)');
    const client = registryClient(ctx);
    const ids = new Set(ctx.config.images.map((c) => c.id));
    for (const p of parts) {
      for (const im of p.context.images ?? []) {
        if (!ids.has(im.id)) throw new RelsignError(`continue --merge: part ${p.shown} recorded image ${im.id}, which the config does not list; refusing to merge`);
      }
    }
    const plans: Array<MergePlan | { cfg: ImageConfig; where: string; whole: true }> = [];
    for (const [i, cfg] of ctx.config.images.entries()) {
      const where = `images[${i}]`;
      checkImageId(cfg, where);
      const platforms = imagePlatforms(cfg, where);
      if (builtByMerge(ctx.config, cfg, platforms)) plans.push({ cfg, where, whole: true });
      else plans.push(await checkImage(ctx, client, parts, cfg, where, platforms));
    }
    for (const plan of plans) {
      if ('whole' in plan) await runImage(ctx, client, plan.cfg, plan.where);
      else if (plan.push) await pushAssembled(ctx, client, plan);
      else await combineLayouts(ctx, plan);
    }
  },
};

function refuse(cfg: ImageConfig, where: string, what: string): never {
  throw new RelsignError(`continue --merge: ${where} (${cfg.id}): ${what}; refusing to merge`);
}

/** Finds each platform's part, checks its record against the config and its manifest against the registry or layout. */
async function checkImage(
  ctx: Context,
  client: RegistryClient,
  parts: readonly LoadedPart[],
  cfg: ImageConfig,
  where: string,
  platforms: readonly ImagePlatform[],
): Promise<MergePlan> {
  const repositories = renderRepositories(ctx, cfg, where);
  const tags = renderTags(ctx, cfg, where);
  const push = imagePushes(ctx, cfg, where);
  const names = repositories.map((r) => formatReference(r));
  const found = new Map<string, { part: LoadedPart; record: PartImagePlatform; image: PartImage }>();
  for (const part of parts) {
    const image = part.context.images?.find((im) => im.id === cfg.id);
    if (!image) continue;
    if (image.pushed !== push) {
      refuse(cfg, where, `part ${part.shown} ${image.pushed ? 'pushed its platforms' : 'did not push its platforms (--snapshot or push: false)'}, but this merge ${push ? 'pushes' : 'does not (--snapshot or push: false)'}`);
    }
    if (push && (image.repositories.length !== names.length || !image.repositories.every((r) => names.includes(r)))) {
      refuse(cfg, where, `part ${part.shown} pushed to ${image.repositories.join(', ').slice(0, 300) || 'no repository'}, but this merge's config names ${names.join(', ')} (give split and merge jobs the same environment)`);
    }
    if (!push && image.layout === undefined) refuse(cfg, where, `part ${part.shown} records no layout for its unpushed platforms`);
    for (const record of image.platforms) {
      const p = platforms.find((x) => x.name === record.platform);
      if (!p) refuse(cfg, where, `part ${part.shown} built platform ${record.platform}, which ${where}.platforms does not list`);
      const targets = targetsForPlatform(ctx.config, cfg, p);
      if (!targets.some((t) => part.context.targets.includes(t))) {
        refuse(cfg, where, `part ${part.shown} recorded ${record.platform} but built none of its targets (${targets.join(', ') || 'none configured'})`);
      }
      const other = found.get(record.platform);
      if (other) refuse(cfg, where, `platform ${record.platform} was built by two parts (${other.part.shown} and ${part.shown})`);
      found.set(record.platform, { part, record, image });
    }
  }
  const missing = platforms.filter((p) => !found.has(p.name)).map((p) => p.name);
  if (missing.length > 0) refuse(cfg, where, `no part built platform ${missing.join(', ')}`);

  const merged: MergedPlatform[] = [];
  for (const p of platforms) {
    const { part, record, image } = found.get(p.name)!;
    const what = `${p.name} from part ${part.shown}`;
    let bytes: Buffer;
    let config: Buffer;
    if (push) {
      bytes = await registryManifest(client, repositories, record, (problem) => refuse(cfg, where, `${what}: ${problem}`));
      const desc = manifestBlobs(bytes, (problem) => refuse(cfg, where, `${what}: ${problem}`))[0]!;
      try {
        config = await client.getBlobBytes(repositories[0]!, desc.digest, MAX_JSON_BLOB);
      } catch (err) {
        refuse(cfg, where, `${what}: cannot read its image config: ${describeError(err)}`);
      }
    } else {
      const layout = await partLayout(part, image.layout!, (problem) => refuse(cfg, where, `${what}: ${problem}`));
      bytes = await layoutBlob(part, layout, record, (problem) => refuse(cfg, where, `${what}: ${problem}`));
      const desc = manifestBlobs(bytes, (problem) => refuse(cfg, where, `${what}: ${problem}`))[0]!;
      config = await layoutBlob(part, layout, { digest: desc.digest, size: desc.size }, (problem) => refuse(cfg, where, `${what}: image config: ${problem}`));
    }
    checkConfigPlatform(config, p, (problem) => refuse(cfg, where, `${what}: ${problem}`));
    merged.push({
      platform: p,
      part,
      record,
      ...(image.layout !== undefined ? { layout: image.layout } : {}),
      bytes,
      annotations: manifestAnnotations(bytes, (problem) => refuse(cfg, where, `${what}: ${problem}`)),
    });
  }
  // One build's manifests carry the same annotations (commit, version, base digest): parts that differ were not built alike.
  const first = JSON.stringify(sorted(merged[0]!.annotations));
  const odd = merged.find((m) => JSON.stringify(sorted(m.annotations)) !== first);
  if (odd) {
    refuse(cfg, where, `the annotations of ${odd.platform.name} (part ${odd.part.shown}) differ from those of ${merged[0]!.platform.name} (part ${merged[0]!.part.shown}): built from another commit or base image`);
  }
  return { cfg, where, repositories, tags, push, platforms: merged };
}

/** The recorded platform manifest, fetched by digest from every repository (the client checks the bytes against the digest). */
async function registryManifest(client: RegistryClient, repositories: readonly RepoRef[], record: PartImagePlatform, bad: (what: string) => never): Promise<Buffer> {
  let bytes: Buffer | undefined;
  for (const repo of repositories) {
    const at = `${formatReference(repo)}@${record.digest}`;
    let got;
    try {
      got = await client.getManifest(repo, record.digest, [record.media_type]);
    } catch (err) {
      bad(`cannot read ${at}: ${describeError(err)}`);
    }
    if (!got) bad(`manifest ${at} is not in the registry`);
    if (got.descriptor.mediaType !== record.media_type || got.bytes.length !== record.size) {
      bad(`manifest ${at} is ${got.descriptor.mediaType}, ${got.bytes.length} bytes; the part recorded ${record.media_type}, ${record.size} bytes`);
    }
    bytes ??= got.bytes;
  }
  return bytes!;
}

function parseJson(bytes: Buffer, what: string, bad: (what: string) => never): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(bytes.toString('utf8'));
  } catch {
    bad(`${what} is not valid JSON`);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) bad(`${what} is not a JSON object`);
  return v as Record<string, unknown>;
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** The config and layer descriptors of a platform manifest: config first. */
function manifestBlobs(bytes: Buffer, bad: (what: string) => never): Descriptor[] {
  const m = parseJson(bytes, 'the manifest', bad);
  if (m.mediaType !== OCI_MANIFEST) bad(`the manifest is not an OCI image manifest`);
  const layers = Array.isArray(m.layers) ? (m.layers as unknown[]) : bad('the manifest has no layers');
  if (layers.length > MAX_LAYERS) bad(`the manifest names more than ${MAX_LAYERS} layers`);
  return [m.config, ...layers].map((d, i) => {
    const o = d as Record<string, unknown> | null;
    if (!o || typeof o !== 'object' || typeof o.digest !== 'string' || !DIGEST.test(o.digest) || typeof o.size !== 'number' || !Number.isSafeInteger(o.size) || o.size < 0 || typeof o.mediaType !== 'string') {
      bad(`the manifest's ${i === 0 ? 'config' : `layers[${i - 1}]`} is not a sha256 descriptor`);
    }
    return { mediaType: o.mediaType as string, digest: o.digest as string, size: o.size as number };
  });
}

function manifestAnnotations(bytes: Buffer, bad: (what: string) => never): Record<string, string> {
  const m = parseJson(bytes, 'the manifest', bad);
  if (m.annotations === undefined) return {};
  const a = m.annotations;
  if (!a || typeof a !== 'object' || Array.isArray(a) || !Object.values(a).every((v) => typeof v === 'string')) bad('the manifest annotations are not a map of strings');
  return Object.fromEntries(Object.entries(a as Record<string, string>));
}

/** A split could record arm64 bytes as amd64: the image config says which platform it really is. */
function checkConfigPlatform(bytes: Buffer, p: ImagePlatform, bad: (what: string) => never): void {
  const c = parseJson(bytes, 'its image config', bad);
  const have = [c.os, c.architecture, c.variant].filter((x) => x !== undefined && x !== '').map(String).join('/');
  const want = [p.oci.os, p.oci.architecture, p.oci.variant].filter(Boolean).join('/');
  if (have !== want) bad(`its image config is for ${have.slice(0, 80) || 'no platform'}, not ${want}`);
}

function sorted(o: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The index (or, for one platform, the manifest) that tags point at: the bytes a single run makes. */
function assemble(plan: MergePlan): { descriptor: Descriptor; bytes: Buffer; index: boolean } {
  if (plan.platforms.length === 1) {
    const only = plan.platforms[0]!;
    return { descriptor: { mediaType: only.record.media_type, digest: only.record.digest, size: only.record.size }, bytes: only.bytes, index: false };
  }
  const descriptors = plan.platforms.map((m) => ({ mediaType: m.record.media_type, digest: m.record.digest, size: m.record.size, platform: m.platform.oci }));
  const bytes = imageIndex(descriptors, plan.platforms[0]!.annotations);
  return { descriptor: { mediaType: OCI_INDEX, digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`, size: bytes.length }, bytes, index: true };
}

function register(ctx: Context, plan: MergePlan, top: { descriptor: Descriptor; index: boolean }, layout: string | undefined): void {
  registerImage(
    ctx,
    plan.cfg,
    {
      manifests: plan.platforms.map((m) => ({ platform: m.platform, descriptor: { digest: m.record.digest } })),
      ...(top.index ? { index: { descriptor: top.descriptor } } : {}),
    },
    plan.repositories,
    plan.tags,
    layout,
    plan.push,
  );
}

/** Index by digest to every repository, then (only when every repository has it) the tags. */
async function pushAssembled(ctx: Context, client: RegistryClient, plan: MergePlan): Promise<void> {
  const top = assemble(plan);
  const named = async (repo: RepoRef, tag: string | undefined, fn: () => Promise<unknown>): Promise<void> => {
    try {
      await fn();
    } catch (err) {
      throw new RelsignError(`${plan.where}: cannot push ${formatReference({ ...repo, ...(tag ? { tag } : {}) })}: ${describeError(err)}`, { cause: err });
    }
  };
  if (top.index) {
    for (const repo of plan.repositories) await named(repo, undefined, () => client.putManifest(repo, top.descriptor.digest, top.bytes, OCI_INDEX));
  }
  for (const repo of plan.repositories) {
    for (const tag of plan.tags) {
      await named(repo, tag, () => client.putManifest(repo, tag, top.bytes, top.descriptor.mediaType));
      ctx.log.info(`  pushed ${formatReference({ ...repo, tag })}@${top.descriptor.digest} (${plan.platforms.map((m) => `${m.platform.name} from ${m.part.shown}`).join(', ')})`);
    }
  }
  register(ctx, plan, top, undefined);
}

/** Snapshot parts: their layouts' blobs (checked against their digests) into one layout, dist/images/<id>. */
async function combineLayouts(ctx: Context, plan: MergePlan): Promise<void> {
  const dir = join(ctx.distDir, 'images', plan.cfg.id);
  await rm(dir, { recursive: true, force: true });
  const layout = new OciLayout(dir);
  await layout.init();
  for (const m of plan.platforms) {
    const bad = (what: string): never => refuse(plan.cfg, plan.where, `${m.platform.name} from part ${m.part.shown}: ${what}`);
    const source = await partLayout(m.part, m.layout!, bad);
    for (const desc of manifestBlobs(m.bytes, bad)) {
      const file = await partBlobFile(m.part, source, desc.digest, bad);
      try {
        await layout.writeStream(createReadStream(file), desc);
      } catch (err) {
        bad(`blob ${desc.digest}: ${describeError(err)}`);
      }
    }
    await layout.writeBytes(m.bytes, m.record.media_type);
  }
  const top = assemble(plan);
  if (top.index) await layout.writeBytes(top.bytes, OCI_INDEX);
  await layout.finish(top.descriptor, plan.tags[0]);
  const rel = relative(ctx.cwd, dir).split(sep).join('/');
  ctx.log.info(`  ${plan.cfg.id} (${plan.platforms.map((m) => `${m.platform.name} from ${m.part.shown}`).join(', ')}) → ${rel}: ${top.descriptor.digest}; not pushed`);
  register(ctx, plan, top, rel);
}

/** A part's layout folder, which must be inside the part after symlinks. */
async function partLayout(part: LoadedPart, layout: string, bad: (what: string) => never): Promise<string> {
  const realPart = await realLocation(part.dir);
  const real = await realLocation(join(part.dir, ...layout.split('/'))).catch(() => undefined);
  if (!real || !isWithin(realPart, real)) bad(`its layout ${layout} resolves outside the part`);
  return real;
}

async function partBlobFile(part: LoadedPart, layoutDir: string, digest: string, bad: (what: string) => never): Promise<string> {
  if (!DIGEST.test(digest)) bad(`${digest.slice(0, 80)} is not a sha256 digest`);
  const realPart = await realLocation(part.dir);
  const real = await realLocation(join(layoutDir, 'blobs', 'sha256', digest.slice('sha256:'.length))).catch(() => undefined);
  if (!real || !isWithin(realPart, real)) bad(`blob ${digest} resolves outside the part`);
  const st = await lstat(real).catch(() => undefined);
  if (!st?.isFile()) bad(`blob ${digest} is not in its layout`);
  return real;
}

/** A small blob (manifest, config) from a part's layout, checked against its digest and size. */
async function layoutBlob(part: LoadedPart, layoutDir: string, desc: { digest: string; size: number }, bad: (what: string) => never): Promise<Buffer> {
  const file = await partBlobFile(part, layoutDir, desc.digest, bad);
  if (desc.size > MAX_JSON_BLOB) bad(`blob ${desc.digest} is larger than ${MAX_JSON_BLOB} bytes`);
  const bytes = await readBoundedBytes(file, MAX_JSON_BLOB);
  const got = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  if (got !== desc.digest || bytes.length !== desc.size) bad(`blob ${desc.digest} in its layout does not match its digest (changed after the split)`);
  return bytes;
}
