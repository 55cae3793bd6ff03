import { basename, isAbsolute, resolve } from 'node:path';
import { repoFromUrl } from '../git/index.js';
import type { Clock } from '../github/client.js';
import { type MakeLatest, type PublishReleaseOptions, type PublishResult, publishRelease } from '../github/publish.js';
import type { AssetInput, LocalAsset } from '../github/releases.js';
import { checkArtifactName } from '../pipeline/artifact-name.js';
import { type Artifact, UPLOADABLE_TYPES } from '../pipeline/artifacts.js';
import type { Context } from '../pipeline/context.js';
import type { Stage } from '../pipeline/stage.js';
import { render, renderFlag } from '../pipeline/template-data.js';
import { RelsignError } from '../util/errors.js';
import { globInProject } from '../util/glob.js';
import { verifyReleaseSignatures } from './release-verify.js';

/** The GitHub repository to publish to: release.github, else the git remote, else GITHUB_REPOSITORY. */
export function resolveRepository(ctx: Context): { owner: string; name: string } {
  const cfg = ctx.config.release.github ?? {};
  const fromRemote = ctx.git.url ? repoFromUrl(ctx.git.url) : undefined;
  const fromEnv = /^([^/\s]+)\/([^/\s]+)$/.exec(ctx.env.GITHUB_REPOSITORY ?? '');
  const owner = cfg.owner || fromRemote?.owner || fromEnv?.[1] || '';
  const name = cfg.name || fromRemote?.name || fromEnv?.[2] || '';
  if (!owner || !name) {
    throw new RelsignError(
      'cannot tell which GitHub repository to release to: set release.github.owner and release.github.name, add a git remote, or set GITHUB_REPOSITORY',
    );
  }
  return { owner, name };
}

export function isPrerelease(ctx: Context): boolean {
  const p = ctx.config.release.prerelease;
  if (p === 'auto' || p === undefined) return ctx.semver.prerelease !== '';
  if (typeof p === 'boolean') return p;
  return p.trim() === 'true';
}

function makeLatest(ctx: Context): MakeLatest | undefined {
  const v = ctx.config.release.make_latest;
  if (v === undefined) return undefined;
  const s = typeof v === 'boolean' ? String(v) : render(ctx, v, 'release.make_latest').trim();
  if (s === '') return undefined;
  if (s !== 'true' && s !== 'false' && s !== 'legacy') {
    throw new RelsignError(`release.make_latest: must render to true, false or legacy, got ${JSON.stringify(s)}`);
  }
  return s;
}

/** Release body as GoReleaser builds it: header, notes, footer. */
export function releaseBody(ctx: Context): string {
  const r = ctx.config.release;
  const header = r.header ? render(ctx, r.header, 'release.header') : '';
  const footer = r.footer ? render(ctx, r.footer, 'release.footer') : '';
  const images = imagesSection(ctx);
  return `${header ? `${header}\n` : ''}${ctx.releaseNotes ?? ''}${images ? `\n${images}` : ''}${footer ? `\n${footer}` : ''}`;
}

/**
 * Pushed images with their digests, one line per repository: the index when
 * an image has several platforms, else its manifest. Empty when none.
 */
export function imagesSection(ctx: Context): string {
  const pushed = ctx.artifacts.filter({ types: ['image', 'manifest'], where: (a) => a.extra.pushed === true });
  const lines: string[] = [];
  const seen = new Set<string>();
  for (const a of pushed) {
    const key = `${String(a.extra.repository)}|${String(a.extra.id)}`;
    if (a.type === 'image' && pushed.some((m) => m.type === 'manifest' && `${String(m.extra.repository)}|${String(m.extra.id)}` === key)) continue;
    if (seen.has(key)) continue;
    seen.add(key);
    const platforms = a.type === 'manifest' ? (a.extra.platforms as string[]) : [String(a.extra.platform)];
    const tags = (a.extra.tags as string[]).join(', ');
    lines.push(`* \`${String(a.extra.repository)}@${String(a.extra.digest)}\` (tags: ${tags}; ${platforms.join(', ')})`);
  }
  return lines.length ? `## Images\n\n${lines.join('\n')}\n` : '';
}

/** release.extra_files: each glob must match; matches are registered as `file` artifacts. */
async function extraFiles(ctx: Context): Promise<void> {
  for (const [i, entry] of ctx.config.release.extra_files.entries()) {
    const glob = typeof entry === 'string' ? entry : entry.glob;
    const nameTemplate = typeof entry === 'string' ? undefined : entry.name_template;
    const matches = await globInProject(ctx.cwd, glob, `release.extra_files[${i}]`, { dot: false });
    if (matches.length === 0) throw new RelsignError(`release.extra_files[${i}]: ${glob} matched no files`);
    for (const { match, real: path } of matches) {
      const name = nameTemplate
        ? render(ctx, nameTemplate, `release.extra_files[${i}].name_template`, { extra: { ArtifactName: basename(match), ArtifactPath: path } })
        : basename(match);
      checkArtifactName(name, nameTemplate ? `release.extra_files[${i}].name_template` : `release.extra_files[${i}]`);
      ctx.artifacts.add({ type: 'file', name, path, extra: { extraFile: true } });
    }
  }
}

const extraFilesRegistered = new WeakSet<Context>();

/**
 * The artifacts the release uploads: the uploadable types (among
 * release.ids), release.extra_files (registered once per run; not under
 * --snapshot, which publishes nothing), and the release manifest with its
 * signature, whatever the ids.
 */
export async function releaseArtifacts(ctx: Context): Promise<Artifact[]> {
  if (!ctx.options.snapshot && !extraFilesRegistered.has(ctx)) {
    extraFilesRegistered.add(ctx);
    await extraFiles(ctx);
  }
  const selected = ctx.artifacts.filter({ types: UPLOADABLE_TYPES, ids: ctx.config.release.ids });
  const manifest = ctx.artifacts.filter({ types: UPLOADABLE_TYPES, where: (a) => a.extra.releaseManifest === true && !selected.includes(a) });
  return [...selected, ...manifest];
}

/** Test/embedding hooks: time source, fetch and terminal for progress. */
export interface ReleaseStageDeps {
  clock?: Clock;
  fetch?: typeof fetch;
  progressStream?: PublishReleaseOptions['progressStream'];
  retry?: PublishReleaseOptions['retry'];
  /** Receives the result (the CLI or tests may print or inspect it). */
  onResult?: (r: PublishResult) => void;
}

/** Maps the context (config, git, artifacts, env) onto publishRelease's options. */
export async function publishOptionsFromContext(ctx: Context, deps: ReleaseStageDeps = {}): Promise<PublishReleaseOptions> {
  const r = ctx.config.release;
  const token = ctx.env.GITHUB_TOKEN ?? '';
  ctx.redactor.add(token);
  const repo = resolveRepository(ctx);
  const skipUpload = renderFlag(ctx, r.skip_upload, 'release.skip_upload');
  const assets: AssetInput[] = skipUpload
    ? []
    : (await releaseArtifacts(ctx)).map((a) => ({
        name: a.name,
        path: isAbsolute(a.path) ? a.path : resolve(ctx.cwd, a.path),
        ...(typeof a.extra.label === 'string' ? { label: a.extra.label } : {}),
        // The manifest's bundle differs per run (its transparency-log entry); an identical manifest keeps the published one.
        ...(a.extra.releaseManifest === true && a.extra.bundle === true && typeof a.extra.signedArtifact === 'string'
          ? { keepExistingWith: a.extra.signedArtifact }
          : {}),
      }));
  if (ctx.config.github_urls.upload) {
    ctx.log.debug('github_urls.upload is not needed: uploads go to the upload_url the API returns');
  }
  const log = ctx.log.child('release');
  const stream = process.stderr as NodeJS.WriteStream;
  return {
    owner: repo.owner,
    repo: repo.name,
    token,
    ...(ctx.config.github_urls.api ? { apiUrl: ctx.config.github_urls.api } : {}),
    tag: ctx.git.tag,
    name: render(ctx, r.name_template, 'release.name_template'),
    body: releaseBody(ctx),
    draft: ctx.options.draft || r.draft,
    prerelease: isPrerelease(ctx),
    makeLatest: makeLatest(ctx),
    ...(r.target_commitish ? { targetCommitish: render(ctx, r.target_commitish, 'release.target_commitish') } : {}),
    mode: r.mode,
    replaceExistingArtifacts: r.replace_existing_artifacts,
    useExistingDraft: r.use_existing_draft,
    replaceExistingDraft: r.replace_existing_draft,
    skipUpload,
    assets,
    concurrency: Math.max(1, ctx.options.parallelism),
    ...(r.verify ? { verify: (uploaded: readonly LocalAsset[]) => verifyReleaseSignatures(ctx, uploaded) } : {}),
    signal: ctx.signal,
    log: { info: (m) => log.info(m), warn: (m) => log.warn(m), debug: (m) => log.debug(m) },
    progressStream: deps.progressStream ?? (!ctx.log.json && stream.isTTY ? stream : undefined),
    ...(deps.clock ? { clock: deps.clock } : {}),
    ...(deps.fetch ? { fetch: deps.fetch } : {}),
    ...(deps.retry ? { retry: deps.retry } : {}),
  };
}

export function createReleaseStage(deps: ReleaseStageDeps = {}): Stage {
  return {
    name: 'release',
    description: 'publishing the GitHub release',
    skip(ctx) {
      if (ctx.options.snapshot) return 'not publishing a snapshot';
      if (ctx.options.skip.has('publish')) return '--skip publish';
      if (ctx.options.skip.has('release')) return '--skip release';
      if (renderFlag(ctx, ctx.config.release.disable, 'release.disable')) return 'release.disable is set';
      return false;
    },
    async run(ctx) {
      const result = await publishRelease(await publishOptionsFromContext(ctx, deps));
      deps.onResult?.(result);
    },
  };
}

export const releaseStage: Stage = createReleaseStage();
