import { mapLimit } from '../util/concurrency.js';
import { RelsignError, describeError } from '../util/errors.js';
import {
  type Clock,
  DEFAULT_API_URL,
  DEFAULT_PACING,
  DEFAULT_RETRY,
  type PacingOptions,
  type RetryOptions,
  RequestPacer,
  createGitHubClient,
  describeHttpError,
  realClock,
} from './client.js';
import { UploadProgress, summaryTable, type SummaryRow } from './progress.js';
import {
  type AssetInput,
  type AssetStatus,
  type GhAsset,
  type GhRelease,
  type LocalAsset,
  MAX_ASSETS,
  ReleaseApi,
  conflictError,
  digestOf,
  prepareAssets,
  sameContent,
  uploadAsset,
} from './releases.js';

/** GitHub's limit on a release body. */
export const MAX_BODY_LENGTH = 125_000;

export type NotesMode = 'keep-existing' | 'append' | 'prepend' | 'replace';
export type MakeLatest = 'true' | 'false' | 'legacy';

export interface PublishLogger {
  info(message: string): void;
  warn(message: string): void;
  debug?(message: string): void;
}

export interface PublishReleaseOptions {
  owner: string;
  repo: string;
  token: string;
  /** API root (github_urls.api); default https://api.github.com. Uploads go to the upload_url GitHub returns. */
  apiUrl?: string;
  tag: string;
  /** Release title (release.name_template, rendered). */
  name: string;
  /** Release notes, header and footer already joined. */
  body: string;
  draft: boolean;
  prerelease: boolean;
  /** Sent when publishing; forced to 'false' for prereleases. */
  makeLatest?: MakeLatest;
  targetCommitish?: string;
  mode?: NotesMode;
  replaceExistingArtifacts?: boolean;
  /** Also reuse a draft whose release name matches (GoReleaser's use_existing_draft). */
  useExistingDraft?: boolean;
  /** Delete matching drafts (by tag, or by name with useExistingDraft) and start a fresh one, instead of resuming. */
  replaceExistingDraft?: boolean;
  /** Create/update (and publish) the release, upload nothing. */
  skipUpload?: boolean;
  assets: AssetInput[];
  /** Uploads in flight at once. */
  concurrency?: number;
  retry?: Partial<RetryOptions>;
  pacing?: Partial<PacingOptions>;
  /** Time source for pacing and retry waits (tests pass a fake). */
  clock?: Clock;
  fetch?: typeof fetch;
  signal?: AbortSignal;
  log?: PublishLogger;
  /**
   * Runs after the uploaded assets are confirmed equal to the local files and
   * before the release is published: throwing leaves the release a draft.
   */
  verify?: (assets: readonly LocalAsset[]) => Promise<void>;
  /** Terminal stream for live progress (a TTY gets a redrawn status line). */
  progressStream?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
}

export interface PublishedAsset extends SummaryRow {
  id: number;
  digest: string;
  url: string;
}

export interface PublishResult {
  releaseId: number;
  /** The release page. */
  url: string;
  /** True when relsign created the release in this run. */
  created: boolean;
  /** True when the release is (still) a draft: release.draft, or nothing was published. */
  draft: boolean;
  assets: PublishedAsset[];
  /** Write requests paced in this run (creates, uploads, deletes, updates). */
  writeRequests: number;
}

const silent: PublishLogger = { info: () => {}, warn: () => {} };

/** Body after merging with the release's current notes, as GoReleaser's `mode`. */
export function mergeBody(mode: NotesMode, existing: string, fresh: string): string {
  switch (mode) {
    case 'replace':
      return fresh;
    case 'append':
      return existing ? `${existing}\n\n${fresh}` : fresh;
    case 'prepend':
      return existing ? `${fresh}\n\n${existing}` : fresh;
    default:
      return existing ? existing : fresh;
  }
}

export function truncateBody(body: string): string {
  return body.length > MAX_BODY_LENGTH ? body.slice(0, MAX_BODY_LENGTH - 3) + '...' : body;
}

/**
 * Publishes a GitHub Release atomically and idempotently:
 *
 * 1. preflight: token, assets (exist, 1 B ≤ size < 2 GiB, ≤ 1000, unique names; hashed);
 * 2. find the release for the tag (published: tag endpoint; drafts: list) or create it as a draft;
 * 3. plan against existing assets: identical digest → kept, `starter` leftovers → deleted,
 *    different → replaced on a draft for this tag (nothing is public yet) or with
 *    replace_existing_artifacts, else one clear error before any upload;
 * 4. upload (streamed, bounded concurrency, paced ≤ 80 writes/min, retried re-opening the file);
 * 5. list the assets again and compare name, size and digest with the local files;
 * 6. run the caller's check (signatures), then publish (`draft: false`, make_latest) unless a draft was asked for.
 *
 * Any failure leaves the release a draft; re-running the same command resumes.
 */
export async function publishRelease(options: PublishReleaseOptions): Promise<PublishResult> {
  const log = options.log ?? silent;
  const clock = options.clock ?? realClock;
  const retry: RetryOptions = { ...DEFAULT_RETRY, ...options.retry };
  const pacer = new RequestPacer({ ...DEFAULT_PACING, ...options.pacing }, clock);
  const mode = options.mode ?? 'keep-existing';
  const makeLatest: MakeLatest | undefined = options.prerelease ? 'false' : options.makeLatest;

  // 1. Preflight: nothing is created until all of this holds.
  if (!options.token) {
    throw new RelsignError('missing GITHUB_TOKEN: set it to a token with contents: write on the repository');
  }
  if (!options.owner || !options.repo) {
    throw new RelsignError('unknown GitHub repository: set release.github.owner and release.github.name');
  }
  const local = options.skipUpload ? [] : await prepareAssets(options.assets);
  const body = truncateBody(options.body);

  const client = createGitHubClient({
    token: options.token,
    apiUrl: options.apiUrl ?? DEFAULT_API_URL,
    pacer,
    fetch: options.fetch,
    signal: options.signal,
  });
  const api = new ReleaseApi(client, options.owner, options.repo, {
    retry,
    clock,
    signal: options.signal,
    onRetry: (what, err, attempt, delay) =>
      log.warn(`${what}: ${describeHttpError(err)}; retrying in ${delay < 1000 ? `${delay}ms` : `${Math.round(delay / 100) / 10}s`} (try ${attempt + 1}/${retry.attempts})`),
  });

  // 2. Find or create. Published releases come from the tag endpoint; drafts only from the list
  // (which also proves the repository is reachable when no published release exists).
  let release = await api.findPublished(options.tag);
  if (!release) {
    let drafts = await api.findDrafts(options.tag, options.useExistingDraft ? options.name : undefined);
    if (options.replaceExistingDraft && drafts.length > 0) {
      for (const d of drafts) {
        log.info(`deleting draft release ${d.name ?? d.tag_name} (id ${d.id}): replace_existing_draft is set`);
        await api.deleteRelease(d.id);
      }
      drafts = [];
    }
    if (drafts.length > 1) {
      log.warn(`${drafts.length} draft releases match ${options.tag}; resuming the newest (id ${drafts[0]!.id})`);
    }
    release = drafts[0];
  }
  const created = !release;
  let existingAssets: GhAsset[] = [];
  if (release) {
    log.info(`found ${release.draft ? 'draft' : 'published'} release ${release.tag_name} (id ${release.id}); resuming`);
    existingAssets = await api.listAssets(release.id);
  }

  // 3. Plan: decide per asset before touching anything, so conflicts fail early.
  // On a draft for this tag nothing is public yet, and keeping an old copy next to this
  // run's signatures would publish a mismatch: differing assets there are replaced.
  const ownDraft = !release || isOwnDraft(release, options.tag);
  const replaceExisting = (options.replaceExistingArtifacts ?? false) || ownDraft;
  const plan = planUploads(local, existingAssets, { replaceExisting, release });
  for (const name of plan.replacing) {
    log.info(
      options.replaceExistingArtifacts
        ? `replacing asset ${name}: its content differs from this run's file (replace_existing_artifacts is set)`
        : `replacing asset ${name} on draft ${release!.tag_name} (id ${release!.id}): its content differs from this run's file and nothing is published yet`,
    );
  }
  const extraRemote = existingAssets.filter((a) => !local.some((l) => l.name === a.name)).length;
  if (extraRemote + local.length > MAX_ASSETS) {
    throw new RelsignError(
      `release ${options.tag} already has ${existingAssets.length} assets; adding ${plan.toUpload.length} would exceed GitHub's ${MAX_ASSETS}-asset limit`,
    );
  }
  const writes = plan.toUpload.length + plan.toDelete.length + (created ? 1 : 0) + 1;
  if (writes > pacer.options.perMinute) {
    log.info(
      `${writes} write requests needed; pacing them at ${pacer.options.perMinute}/min (about ${Math.ceil(writes / pacer.options.perMinute)} min)`,
    );
  }

  if (release && !release.draft) {
    const work = plan.toUpload.length + plan.toDelete.length;
    if (release.immutable && work > 0) {
      throw new RelsignError(
        `release ${release.tag_name} is published and immutable; its assets cannot change (${work} asset(s) differ or are missing). Publish a new tag instead`,
      );
    }
    if (work > 0) log.warn(`release ${release.tag_name} is already published; assets will change in place`);
  }

  if (!release) {
    release = await api.create({
      tag_name: options.tag,
      name: options.name,
      body,
      prerelease: options.prerelease,
      ...(options.targetCommitish ? { target_commitish: options.targetCommitish } : {}),
    });
    log.info(`created draft release ${release.tag_name} (id ${release.id}): ${release.html_url}`);
  }
  const target: GhRelease = release;
  const resumeHint = (): string =>
    target.draft
      ? `release ${target.tag_name} is left as a draft (id ${target.id}, ${target.html_url}, nothing was published); re-run the same command to resume it — identical assets already uploaded are kept`
      : `re-run the same command to resume — identical assets already uploaded are kept`;

  // 4. Upload.
  const statuses = new Map<string, { status: AssetStatus; remote?: GhAsset }>();
  for (const k of plan.kept) statuses.set(k.local.name, { status: 'kept', remote: k.remote });
  const progress = new UploadProgress({ info: (l) => log.info(l), stream: options.progressStream, now: clock.now });
  progress.setTotal(plan.toUpload.length, plan.toUpload.reduce((n, a) => n + a.size, 0));
  try {
    for (const leftover of plan.toDelete) {
      // Replacements were announced with the plan.
      if (leftover.reason === 'leftover') log.info(`deleting incomplete leftover (state ${leftover.remote.state}) asset ${leftover.remote.name}`);
      await api.deleteAsset(leftover.remote.id);
    }
    await mapLimit(plan.toUpload, Math.max(1, options.concurrency ?? 4), async (asset) => {
      try {
        const r = await uploadAsset(api, target, asset, {
          replaceExisting,
          progress,
          onDelete: (remote, why) =>
            log.info(
              why === 'leftover'
                ? `deleting incomplete leftover (state ${remote.state}) asset ${remote.name}`
                : `replacing asset ${remote.name}: its content differs from this run's file`,
            ),
        });
        const status: AssetStatus = plan.replacing.has(asset.name) && r.status === 'uploaded' ? 'replaced' : r.status;
        statuses.set(asset.name, { status, remote: r.asset });
        progress.finish(asset, status);
      } catch (err) {
        progress.finish(asset, 'failed', describeError(err));
        throw err;
      }
    });
    progress.stop();

    // 5. Verify what GitHub holds against the local files.
    const finalAssets = local.length > 0 ? await api.listAssets(target.id) : [];
    for (const name of plan.keptDiffering) {
      log.info(`keeping the release's ${name}: it signs ${local.find((l) => l.name === name)?.keepExistingWith} as on the release (a new signature differs only in its transparency-log entry)`);
    }
    const rows = verifyAssets(local, finalAssets, statuses, log, plan.keptDiffering);
    if (options.verify) await options.verify(local.filter((l) => !plan.keptDiffering.has(l.name)));

    // 6. Publish (or just update notes/title of an existing release).
    const update: Parameters<ReleaseApi['update']>[1] = {};
    if (!created) {
      const merged = truncateBody(mergeBody(mode, target.body ?? '', body));
      if (merged !== (target.body ?? '')) update.body = merged;
      if (options.name !== (target.name ?? '')) update.name = options.name;
      if (options.prerelease !== target.prerelease) update.prerelease = options.prerelease;
      // A draft reused by name (use_existing_draft) may carry another tag.
      if (target.draft && target.tag_name !== options.tag) update.tag_name = options.tag;
      if (target.draft && options.targetCommitish && options.targetCommitish !== target.target_commitish) {
        update.target_commitish = options.targetCommitish;
      }
    }
    let draft = target.draft;
    if (target.draft && !options.draft) {
      update.draft = false;
      if (makeLatest) update.make_latest = makeLatest;
      draft = false;
    }
    let final = target;
    if (Object.keys(update).length > 0) final = await api.update(target.id, update);
    if (update.draft === false) log.info(`published release ${final.tag_name}: ${final.html_url}`);
    else if (draft) log.info(`release ${final.tag_name} left as a draft (release.draft / --draft): ${final.html_url}`);
    for (const l of summaryTable(rows)) log.info(l);
    return {
      releaseId: final.id,
      url: final.html_url,
      created,
      draft,
      assets: rows,
      writeRequests: pacer.history.length,
    };
  } catch (err) {
    progress.stop();
    if ((err as { name?: string })?.name === 'AbortError' || options.signal?.aborted) {
      // The interrupt's own error (Ctrl-C: exit 130; --timeout) plus where the partial release is.
      const reason: unknown = options.signal?.reason;
      const why = reason instanceof RelsignError ? reason.message : 'release interrupted';
      log.warn(`interrupted: ${resumeHint()}`);
      throw new RelsignError(`${why}; ${resumeHint()}`, {
        cause: reason instanceof RelsignError ? reason : err,
        exitCode: reason instanceof RelsignError ? reason.exitCode : 130,
      });
    }
    const msg = err instanceof RelsignError ? err.message : describeHttpError(err);
    throw new RelsignError(`${msg}; ${resumeHint()}`, {
      cause: err,
      ...(err instanceof RelsignError ? { details: [...err.details], exitCode: err.exitCode } : {}),
    });
  }
}

/**
 * A draft relsign treats as its own, whose differing assets it replaces: a draft
 * whose tag is this run's tag. That is the draft relsign creates and resumes;
 * drafts are visible only to people with push access, so nothing on it is
 * public yet. A draft adopted by name (use_existing_draft) for another tag,
 * and any published release, keep the replace_existing_artifacts rule.
 */
export function isOwnDraft(release: GhRelease, tag: string): boolean {
  return release.draft && release.tag_name === tag;
}

interface UploadPlan {
  toUpload: LocalAsset[];
  kept: Array<{ local: LocalAsset; remote: GhAsset }>;
  toDelete: Array<{ remote: GhAsset; reason: 'leftover' | 'replace' }>;
  /** Names being replaced (their old copy is in toDelete). */
  replacing: Set<string>;
  /** Kept although they differ: an earlier signature of what is identical on the release (keepExistingWith). */
  keptDiffering: Set<string>;
}

/** Decides, per local asset, whether the release already holds it. Conflicts are reported together. */
export function planUploads(
  local: readonly LocalAsset[],
  existing: readonly GhAsset[],
  options: { replaceExisting: boolean; release?: GhRelease },
): UploadPlan {
  const byName = new Map(existing.map((a) => [a.name, a] as const));
  const plan: UploadPlan = { toUpload: [], kept: [], toDelete: [], replacing: new Set(), keptDiffering: new Set() };
  const localByName = new Map(local.map((a) => [a.name, a] as const));
  const anchorIdentical = (asset: LocalAsset): boolean => {
    const anchor = asset.keepExistingWith === undefined ? undefined : localByName.get(asset.keepExistingWith);
    const remoteAnchor = anchor && byName.get(anchor.name);
    return !!anchor && !!remoteAnchor && sameContent(remoteAnchor, anchor);
  };
  const conflicts: RelsignError[] = [];
  for (const asset of local) {
    const remote = byName.get(asset.name);
    if (!remote) {
      plan.toUpload.push(asset);
    } else if (remote.state !== 'uploaded') {
      plan.toDelete.push({ remote, reason: 'leftover' });
      plan.toUpload.push(asset);
    } else if (sameContent(remote, asset)) {
      plan.kept.push({ local: asset, remote });
    } else if (options.replaceExisting) {
      plan.toDelete.push({ remote, reason: 'replace' });
      plan.replacing.add(asset.name);
      plan.toUpload.push(asset);
    } else if (anchorIdentical(asset)) {
      plan.kept.push({ local: asset, remote });
      plan.keptDiffering.add(asset.name);
    } else {
      conflicts.push(conflictError(asset, remote, options.release!));
    }
  }
  if (conflicts.length > 0) {
    throw new RelsignError(
      conflicts.length === 1 ? conflicts[0]!.message : `${conflicts.length} assets differ from the release's copies: ${conflicts[0]!.message}`,
      { details: conflicts.map((c) => c.message) },
    );
  }
  return plan;
}

/**
 * Every local asset must be on the release, complete, with the same size and
 * (when the server reports one) the same sha256 digest.
 */
function verifyAssets(
  local: readonly LocalAsset[],
  remote: readonly GhAsset[],
  statuses: Map<string, { status: AssetStatus; remote?: GhAsset }>,
  log: PublishLogger,
  keptDiffering: ReadonlySet<string> = new Set(),
): PublishedAsset[] {
  const byName = new Map(remote.map((a) => [a.name, a] as const));
  const problems: string[] = [];
  const rows: PublishedAsset[] = [];
  let undigested = 0;
  for (const asset of local) {
    const st = statuses.get(asset.name);
    // GitHub may rename an asset (special characters): trust the name its upload response gave.
    const name = st?.remote?.name ?? asset.name;
    const r = byName.get(name);
    if (name !== asset.name) log.warn(`GitHub stored ${asset.name} as ${name}`);
    if (!r) {
      problems.push(`${asset.name} is missing from the release`);
      continue;
    }
    if (r.state !== 'uploaded') problems.push(`${asset.name} is in state ${r.state}, not uploaded`);
    if (keptDiffering.has(asset.name)) {
      rows.push({ id: r.id, name: asset.name, size: r.size, status: st?.status ?? 'kept', digest: String(r.digest), url: r.browser_download_url });
      continue;
    }
    if (r.size !== asset.size) problems.push(`${asset.name} has ${r.size} bytes on GitHub, ${asset.size} locally`);
    if (typeof r.digest === 'string') {
      if (r.digest.toLowerCase() !== digestOf(asset)) problems.push(`${asset.name} has digest ${r.digest} on GitHub, ${digestOf(asset)} locally`);
    } else undigested++;
    rows.push({ id: r.id, name: asset.name, size: asset.size, status: st?.status ?? 'uploaded', digest: digestOf(asset), url: r.browser_download_url });
  }
  if (undigested > 0) log.warn(`the server reported no digest for ${undigested} asset(s); verified their sizes only`);
  if (problems.length > 0) {
    throw new RelsignError(`verification failed: ${problems[0]}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''}`, {
      details: problems,
    });
  }
  return rows;
}
