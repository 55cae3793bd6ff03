import { realpath, rm, stat } from 'node:fs/promises';
import { basename, isAbsolute, join, posix, relative, resolve, sep } from 'node:path';
import type { ImageConfig } from '../config/types.js';
import { resolveBase, type BaseImage } from '../oci/build/base.js';
import { buildImage, type BuiltImage, type ImageSpec } from '../oci/build/image.js';
import { OciLayout } from '../oci/build/layout.js';
import { parsePlatform, type ImagePlatform } from '../oci/build/platform.js';
import { BaseLayerFetcher, pushImage } from '../oci/build/push.js';
import { layerPath, type TarEntry } from '../oci/build/tar.js';
import type { RegistryClient, RepoRef } from '../oci/client.js';
import { formatReference, parseReference, validTag } from '../oci/reference.js';
import type { Artifact } from '../pipeline/artifacts.js';
import type { Context } from '../pipeline/context.js';
import { registryClient } from '../pipeline/registry.js';
import type { Stage } from '../pipeline/stage.js';
import { render, renderFlag, rfc3339 } from '../pipeline/template-data.js';
import { RelsignError, describeError } from '../util/errors.js';

/** Default annotations (OCI pre-defined keys), user annotations go over them. */
export const ANNOTATION_SOURCE = 'org.opencontainers.image.source';
const MODE_FILE = 0o644;
const MODE_BINARY = 0o755;

/**
 * images: builds OCI images without a Docker daemon (one reproducible layer
 * over a base, per platform), writes each as an OCI layout under
 * dist/images/<id>, and pushes it (not under --snapshot or push: false).
 * Named `docker` so that `--skip docker` skips it, as in GoReleaser.
 */
export const imagesStage: Stage = {
  name: 'docker',
  description: 'building images',
  skip(ctx) {
    if (ctx.options.skip.has('docker')) return '--skip docker';
    if (ctx.config.images.length === 0) return 'no images configured';
    return false;
  },
  async run(ctx) {
    const client = registryClient(ctx);
    for (const [i, cfg] of ctx.config.images.entries()) await runImage(ctx, client, cfg, `images[${i}]`);
  },
};

export function renderRepositories(ctx: Context, cfg: ImageConfig, where: string): RepoRef[] {
  const field = cfg.repository !== undefined ? 'repository' : 'repositories';
  const out: RepoRef[] = [];
  cfg.repositories.forEach((text, j) => {
    const w = field === 'repository' ? `${where}.repository` : `${where}.repositories[${j}]`;
    const value = render(ctx, text, w).trim();
    let ref;
    try {
      ref = parseReference(value);
    } catch (err) {
      throw new RelsignError(`${w}: ${describeError(err)}`);
    }
    if (ref.tag !== undefined || ref.digest !== undefined) {
      throw new RelsignError(`${w}: ${JSON.stringify(value)} has a tag or digest; give the repository only and put tags in tags:`);
    }
    if (!out.some((r) => r.registry === ref.registry && r.repository === ref.repository)) out.push({ registry: ref.registry, repository: ref.repository });
  });
  if (out.length === 0) throw new RelsignError(`${where}: set repository (where the image is pushed)`);
  return out;
}

export function renderTags(ctx: Context, cfg: ImageConfig, where: string): string[] {
  const tags: string[] = [];
  cfg.tags.forEach((t, j) => {
    const tag = render(ctx, t, `${where}.tags[${j}]`).trim();
    if (tag === '') return;
    if (!validTag(tag)) {
      throw new RelsignError(`${where}.tags[${j}]: ${JSON.stringify(tag.slice(0, 140))} is not a valid tag (letters, digits, _ . -, at most 128, not starting with . or -)`);
    }
    if (!tags.includes(tag)) tags.push(tag);
  });
  if (tags.length === 0) throw new RelsignError(`${where}.tags: every tag rendered empty; an image needs at least one tag`);
  return tags;
}

/** The binaries of one platform: per build id, the build target `os_arch[_arm]` (a variant-less one preferred). */
function binariesFor(ctx: Context, cfg: ImageConfig, p: ImagePlatform): Artifact[] {
  const candidates = ctx.artifacts
    .filter({ types: ['binary'], ids: cfg.ids })
    .filter((a) => a.os === p.os && a.arch === p.arch && (p.arch !== 'arm' || (a.arm ?? '') === p.arm));
  const byId = new Map<string, Artifact>();
  const plain = [p.os, p.arch, p.arm].filter(Boolean).join('_');
  for (const a of candidates) {
    const prev = byId.get(a.id ?? '');
    if (!prev || (a.target === plain && prev.target !== plain)) byId.set(a.id ?? '', a);
  }
  return [...byId.values()];
}

async function insideProject(ctx: Context, path: string, where: string): Promise<string> {
  const root = await realpath(ctx.cwd);
  let real: string;
  try {
    real = await realpath(resolve(ctx.cwd, path));
  } catch {
    throw new RelsignError(`${where}: ${JSON.stringify(path)} does not exist`);
  }
  const rel = relative(root, real);
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
    throw new RelsignError(`${where}: ${JSON.stringify(path)} is outside the project folder (after following symlinks)`);
  }
  return real;
}

async function fileEntries(ctx: Context, cfg: ImageConfig, where: string): Promise<TarEntry[]> {
  const out: TarEntry[] = [];
  for (const [j, f] of cfg.files.entries()) {
    const w = `${where}.files[${j}]`;
    const src = render(ctx, f.src, `${w}.src`);
    let dst = render(ctx, f.dst, `${w}.dst`);
    const real = await insideProject(ctx, src, `${w}.src`);
    const st = await stat(real);
    if (!st.isFile()) throw new RelsignError(`${w}.src: ${JSON.stringify(src)} is not a regular file`);
    if (dst.endsWith('/')) dst = posix.join(dst, basename(src));
    out.push({ path: layerPath(dst, `${w}.dst`), type: 'file', mode: f.mode ?? MODE_FILE, src: real, size: st.size });
  }
  return out;
}

function renderList(ctx: Context, list: string[] | undefined, where: string): string[] | undefined {
  return list?.map((v, j) => render(ctx, v, `${where}[${j}]`));
}

function renderMap(ctx: Context, map: Record<string, string>, where: string): Record<string, string> {
  return Object.fromEntries(Object.entries(map).map(([k, v]) => [k, render(ctx, v, `${where}.${k}`)]));
}

function defaultAnnotations(ctx: Context): Record<string, string> {
  const a: Record<string, string> = {};
  if (ctx.git.url) a[ANNOTATION_SOURCE] = ctx.git.url;
  a['org.opencontainers.image.revision'] = ctx.git.fullCommit;
  a['org.opencontainers.image.version'] = ctx.version;
  a['org.opencontainers.image.created'] = rfc3339(ctx.git.commitDate);
  return a;
}

/** Everything decided before an image is built: which platforms, where it goes, the spec. */
export interface ImagePlan {
  cfg: ImageConfig;
  where: string;
  /** The platforms built by this run: every configured one, or (split) those whose binaries it built. */
  platforms: ImagePlatform[];
  repositories: RepoRef[];
  tags: string[];
  push: boolean;
  spec: ImageSpec;
  base?: BaseImage;
}

export function checkImageId(cfg: ImageConfig, where: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(cfg.id)) {
    throw new RelsignError(`${where}.id: ${JSON.stringify(cfg.id.slice(0, 140))} must be letters, digits, . _ - (it names dist/images/<id>)`);
  }
}

export function imagePlatforms(cfg: ImageConfig, where: string): ImagePlatform[] {
  return cfg.platforms.map((text, j) => {
    const p = parsePlatform(text);
    if (!p) throw new RelsignError(`${where}.platforms[${j}]: unknown platform ${JSON.stringify(text)}`);
    return p;
  });
}

export function imagePushes(ctx: Context, cfg: ImageConfig, where: string): boolean {
  return renderFlag(ctx, cfg.push, `${where}.push`) && !ctx.options.snapshot;
}

/**
 * Works out what to build. `scope: 'all'` (a single run): every configured
 * platform, each of which must have its binaries when any has. `scope:
 * 'here'` (a split): only the platforms whose binaries this run built;
 * undefined when there are none.
 */
export async function planImage(ctx: Context, client: RegistryClient, cfg: ImageConfig, where: string, scope: 'all' | 'here'): Promise<ImagePlan | undefined> {
  checkImageId(cfg, where);
  const configured = imagePlatforms(cfg, where);
  const repositories = renderRepositories(ctx, cfg, where);
  const tags = renderTags(ctx, cfg, where);
  const push = imagePushes(ctx, cfg, where);

  // What goes in the layer, per platform.
  const files = await fileEntries(ctx, cfg, where);
  const binDir = cfg.binary_dir;
  let perPlatform = configured.map((platform) => ({ platform, binaries: binariesFor(ctx, cfg, platform) }));
  if (scope === 'here') {
    perPlatform = perPlatform.filter((p) => p.binaries.length > 0);
    if (perPlatform.length === 0) return undefined;
  }
  const anyBinary = perPlatform.some((p) => p.binaries.length > 0);
  for (const [j, p] of perPlatform.entries()) {
    if (anyBinary && p.binaries.length === 0) {
      throw new RelsignError(`${where}.platforms[${j}]: no binary was built for ${p.platform.name} (build target ${[p.platform.os, p.platform.arch, p.platform.arm].filter(Boolean).join('_')}${cfg.ids.length ? `, ids ${cfg.ids.join(',')}` : ''})`);
    }
  }
  if (!anyBinary && files.length === 0) {
    throw new RelsignError(`${where}: nothing to put in the image: no binaries${cfg.ids.length ? ` from builds ${cfg.ids.join(',')}` : ''} for ${cfg.platforms.join(', ')} and no files`);
  }
  const platforms = perPlatform.map((p) => p.platform);
  const specPlatforms = await Promise.all(
    perPlatform.map(async ({ platform, binaries }) => {
      const entries: TarEntry[] = [...files];
      for (const b of binaries) {
        const src = isAbsolute(b.path) ? b.path : resolve(ctx.cwd, b.path);
        const st = await stat(src);
        entries.push({ path: layerPath(posix.join(binDir, b.name), `${where}.binary_dir`), type: 'file', mode: MODE_BINARY, src, size: st.size });
      }
      return { platform, entries };
    }),
  );
  const names = new Set(perPlatform.flatMap((p) => p.binaries.map((b) => b.name)));
  const entrypoint =
    renderList(ctx, cfg.entrypoint, `${where}.entrypoint`) ??
    (names.size === 1 && perPlatform.every((p) => p.binaries.length === 1) ? [posix.join(binDir, [...names][0]!)] : undefined);
  const env = renderList(ctx, cfg.env, `${where}.env`) ?? [];
  env.forEach((e, j) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*=/.test(e)) throw new RelsignError(`${where}.env[${j}]: expected KEY=VALUE, got ${JSON.stringify(e.slice(0, 80))}`);
  });
  const annotations = { ...defaultAnnotations(ctx), ...renderMap(ctx, cfg.annotations, `${where}.annotations`) };
  for (const [k, v] of Object.entries(annotations)) if (v === '') delete annotations[k];

  let base: BaseImage | undefined;
  if (cfg.base !== 'scratch') {
    base = await resolveBase(client, cfg.base, platforms, `${where}.base`);
    annotations['org.opencontainers.image.base.name'] = formatReference(parseReference(cfg.base));
    annotations['org.opencontainers.image.base.digest'] = base.digest;
  }
  const spec: ImageSpec = {
    platforms: specPlatforms,
    created: ctx.git.commitDate,
    ...(base ? { base } : {}),
    ...(entrypoint ? { entrypoint } : {}),
    ...(cfg.cmd ? { cmd: renderList(ctx, cfg.cmd, `${where}.cmd`) } : {}),
    env,
    ...(cfg.workdir !== undefined ? { workdir: render(ctx, cfg.workdir, `${where}.workdir`) } : {}),
    ...(cfg.user !== undefined ? { user: render(ctx, cfg.user, `${where}.user`) } : {}),
    labels: renderMap(ctx, cfg.labels, `${where}.labels`),
    annotations,
  };
  return { cfg, where, platforms, repositories, tags, push, spec, ...(base ? { base } : {}) };
}

/**
 * Builds a planned image as an OCI layout under <dist>/images/<id>; when it
 * will not be pushed, downloads the base layers too so the layout is complete.
 */
export async function buildPlanned(
  ctx: Context,
  client: RegistryClient,
  plan: ImagePlan,
): Promise<{ image: BuiltImage; layout: OciLayout; fetcher: BaseLayerFetcher; layoutRel: string }> {
  const { cfg, where, base } = plan;
  const layoutDir = join(ctx.distDir, 'images', cfg.id);
  await rm(layoutDir, { recursive: true, force: true });
  const layout = new OciLayout(layoutDir);
  const image = await buildImage(layout, plan.spec, Math.max(1, ctx.options.parallelism));
  const fetcher = new BaseLayerFetcher(client, layout, base);
  if (!plan.push) {
    // The layout is all there is: make it complete (base layers too), so `skopeo copy oci:…` works.
    try {
      await fetcher.fetchAll(image, ctx.options.parallelism);
    } catch (err) {
      throw new RelsignError(`${where}.base: base image ${cfg.base}: cannot download its layers: ${describeError(err)}`);
    }
  }
  await layout.finish(image.top.descriptor, plan.tags[0]);
  const layoutRel = relative(ctx.cwd, layoutDir).split(sep).join('/');
  return { image, layout, fetcher, layoutRel };
}

/** Builds one image whole (every platform) and pushes it with its tags, as a single-machine run does. */
export async function runImage(ctx: Context, client: RegistryClient, cfg: ImageConfig, where: string): Promise<void> {
  const plan = (await planImage(ctx, client, cfg, where, 'all'))!;
  const { repositories, tags, push, platforms, base } = plan;
  const { image, layout, fetcher, layoutRel } = await buildPlanned(ctx, client, plan);
  const first = `${formatReference(repositories[0]!)}:${tags[0]}`;
  ctx.log.info(`  ${first} (${platforms.map((p) => p.name).join(', ')}) → ${layoutRel}: ${image.top.descriptor.digest}`);
  if (push) {
    try {
      await pushImage({
        client,
        layout,
        image,
        repositories,
        tags,
        ...(base ? { base } : {}),
        fetcher,
        parallelism: Math.max(1, ctx.options.parallelism),
        log: (m) => ctx.log.info(m),
      });
    } catch (err) {
      throw new RelsignError(`${where}: ${describeError(err)}`, { cause: err });
    }
  } else {
    ctx.log.info(`  not pushed (${ctx.options.snapshot ? '--snapshot' : 'push: false'})`);
  }
  registerImage(ctx, cfg, image, repositories, tags, layoutRel, push);
}

/** What registration needs of an image: each platform manifest's digest, and the index's when there is one. */
export interface RegisteredImage {
  manifests: ReadonlyArray<{ platform: ImagePlatform; descriptor: { digest: string } }>;
  index?: { descriptor: { digest: string } };
}

/** Registers an image's platform manifests (type image) and index (type manifest) for every repository. */
export function registerImage(ctx: Context, cfg: ImageConfig, image: RegisteredImage, repositories: readonly RepoRef[], tags: string[], layout: string | undefined, pushed: boolean): void {
  for (const repo of repositories) {
    const ref = `${formatReference(repo)}:${tags[0]}`;
    const common = { repository: formatReference(repo), tags, ...(layout !== undefined ? { layout } : {}), pushed };
    for (const m of image.manifests) {
      ctx.artifacts.add({
        type: 'image',
        name: ref,
        path: ref,
        id: cfg.id,
        os: m.platform.os,
        arch: m.platform.arch,
        ...(m.platform.arm ? { arm: m.platform.arm } : {}),
        extra: { digest: m.descriptor.digest, ...common, platform: m.platform.name, id: cfg.id },
      });
    }
    if (image.index) {
      ctx.artifacts.add({
        type: 'manifest',
        name: ref,
        path: ref,
        id: cfg.id,
        extra: { digest: image.index.descriptor.digest, ...common, platforms: image.manifests.map((m) => m.platform.name), id: cfg.id },
      });
    }
  }
}
