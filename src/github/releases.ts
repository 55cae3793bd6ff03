import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { hashFile } from '../util/fs.js';
import { mapLimit } from '../util/concurrency.js';
import { RelsignError } from '../util/errors.js';
import {
  type Clock,
  type GitHubClient,
  type RetryOptions,
  describeHttpError,
  httpStatus,
  isAlreadyExists,
  withRetry,
} from './client.js';
import { streamingFetch } from './http.js';
import { contentTypeFor } from './mime.js';

/** GitHub refuses assets larger than this (and has failed exactly at it): relsign refuses anything ≥ 2 GiB. */
export const MAX_ASSET_SIZE = 2 * 1024 ** 3;
/** GitHub's per-release asset cap (enforced since July 2025). */
export const MAX_ASSETS = 1000;

/** The release fields relsign reads. */
export interface GhRelease {
  id: number;
  tag_name: string;
  name: string | null;
  body?: string | null;
  draft: boolean;
  prerelease: boolean;
  immutable?: boolean;
  upload_url: string;
  html_url: string;
  target_commitish: string;
}

/** The asset fields relsign reads. */
export interface GhAsset {
  id: number;
  name: string;
  label: string | null;
  size: number;
  /** `uploaded` when complete; a failed upload can leave `starter` (or `open`). */
  state: string;
  /** `sha256:<hex>`; absent on old servers and old recordings. */
  digest?: string | null;
  content_type: string;
  browser_download_url: string;
}

/** A file to publish, as given by the caller. */
export interface AssetInput {
  /** Asset name on the release. Defaults to the file's base name. */
  name?: string;
  path: string;
  label?: string;
  contentType?: string;
  /**
   * A signature whose bytes differ per run (a bundle with a transparency-log
   * entry): when the release cannot be changed in place and already holds an
   * uploaded copy, that copy is kept if the asset named here (what it signs)
   * is identical on the release.
   */
  keepExistingWith?: string;
}

/** A file to publish, checked and hashed. */
export interface LocalAsset {
  name: string;
  path: string;
  label?: string;
  contentType: string;
  size: number;
  /** Lower-case hex sha256 of the file. */
  sha256: string;
  keepExistingWith?: string;
}

export type AssetStatus = 'uploaded' | 'kept' | 'replaced';

export interface ProgressSink {
  start?(asset: LocalAsset, attempt: number): void;
  bytes?(asset: LocalAsset, sent: number): void;
}

/**
 * Preflight for the files: each exists, is a regular non-empty file under
 * 2 GiB, names are unique, there are at most 1000, and every one is hashed
 * (streamed). All problems are reported together, before anything is created.
 */
export async function prepareAssets(inputs: readonly AssetInput[], options: { concurrency?: number } = {}): Promise<LocalAsset[]> {
  const problems: string[] = [];
  if (inputs.length > MAX_ASSETS) {
    problems.push(`${inputs.length} assets to upload, but GitHub allows at most ${MAX_ASSETS} per release`);
  }
  const seen = new Map<string, string>();
  for (const a of inputs) {
    const name = a.name ?? basename(a.path);
    const prev = seen.get(name);
    if (prev !== undefined) problems.push(`asset name ${name} is used twice (${prev} and ${a.path})`);
    else seen.set(name, a.path);
    if (!name || name.includes('/')) problems.push(`invalid asset name ${JSON.stringify(name)} (${a.path})`);
  }
  const stats = await mapLimit(inputs, 16, async (a) => {
    try {
      return await stat(a.path);
    } catch {
      problems.push(`asset ${a.path} does not exist`);
      return undefined;
    }
  });
  inputs.forEach((a, i) => {
    const st = stats[i];
    if (!st) return;
    if (!st.isFile()) problems.push(`asset ${a.path} is not a regular file`);
    else if (st.size === 0) problems.push(`asset ${a.path} is empty (GitHub rejects 0-byte assets)`);
    else if (st.size >= MAX_ASSET_SIZE) problems.push(`asset ${a.path} is ${st.size} bytes; GitHub assets must be smaller than 2 GiB`);
  });
  if (problems.length > 0) {
    throw new RelsignError(
      problems.length === 1 ? problems[0]! : `${problems.length} problems with the release assets: ${problems[0]}`,
      { details: problems },
    );
  }
  return mapLimit(inputs, options.concurrency ?? 4, async (a, i) => ({
    name: a.name ?? basename(a.path),
    path: a.path,
    ...(a.label !== undefined ? { label: a.label } : {}),
    ...(a.keepExistingWith !== undefined ? { keepExistingWith: a.keepExistingWith } : {}),
    contentType: a.contentType ?? contentTypeFor(a.name ?? a.path),
    size: stats[i]!.size,
    sha256: await hashFile(a.path, 'sha256'),
  }));
}

export interface ReleaseApiOptions {
  retry: RetryOptions;
  clock: Clock;
  signal?: AbortSignal;
  onRetry?: (what: string, err: unknown, attempt: number, delayMs: number) => void;
  /** fetch used for uploads; default streamingFetch (node:http, backpressured). */
  uploadFetch?: typeof fetch;
  /** Page size for list calls (GitHub's maximum, 100, by default); 0 sends none (server default, 30). */
  perPage?: number;
}

/**
 * The release endpoints relsign uses, each wrapped in the retry policy.
 * After `create`, 404s are retried as well (replication lag).
 */
export class ReleaseApi {
  private created = false;

  constructor(
    readonly client: GitHubClient,
    readonly owner: string,
    readonly repo: string,
    readonly options: ReleaseApiOptions,
  ) {}

  private get pageParams(): { per_page?: number } {
    const n = this.options.perPage ?? 100;
    return n > 0 ? { per_page: n } : {};
  }

  get slug(): string {
    return `${this.owner}/${this.repo}`;
  }

  private call<T>(what: string, fn: (attempt: number) => Promise<T>): Promise<T> {
    return withRetry(fn, {
      retry: this.options.retry,
      clock: this.options.clock,
      signal: this.options.signal,
      retryNotFound: () => this.created,
      onRetry: (err, attempt, delay) => this.options.onRetry?.(what, err, attempt, delay),
    });
  }

  /** The published release for `tag`, or undefined (drafts are never returned by this endpoint). */
  async findPublished(tag: string): Promise<GhRelease | undefined> {
    try {
      const res = await this.call('get release by tag', () =>
        this.client.rest.repos.getReleaseByTag({ owner: this.owner, repo: this.repo, tag }),
      );
      return res.data as GhRelease;
    } catch (err) {
      if (httpStatus(err) === 404) return undefined;
      throw this.apiError(`looking up the release for ${tag}`, err);
    }
  }

  /**
   * Drafts for `tag` (newest first), found by listing releases; with
   * `name`, drafts with that release name also match (use_existing_draft).
   * A 404 here means the repository is missing or the token cannot see it.
   */
  async findDrafts(tag: string, name?: string): Promise<GhRelease[]> {
    try {
      const all = await this.call('list releases', () =>
        this.client.paginate(this.client.rest.repos.listReleases, { owner: this.owner, repo: this.repo, ...this.pageParams }),
      );
      return (all as GhRelease[]).filter((r) => r.draft && (r.tag_name === tag || (name !== undefined && r.name === name)));
    } catch (err) {
      if (httpStatus(err) === 404) {
        throw new RelsignError(
          `repository ${this.slug} not found, or the token cannot access it (check release.github and the GITHUB_TOKEN scopes: contents: write)`,
          { cause: err },
        );
      }
      throw this.apiError('listing releases', err);
    }
  }

  async create(params: {
    tag_name: string;
    name: string;
    body: string;
    prerelease: boolean;
    target_commitish?: string;
  }): Promise<GhRelease> {
    try {
      const res = await this.call('create release', () =>
        this.client.rest.repos.createRelease({ owner: this.owner, repo: this.repo, ...params, draft: true }),
      );
      this.created = true;
      return res.data as GhRelease;
    } catch (err) {
      if (httpStatus(err) === 422) {
        throw new RelsignError(
          `GitHub refused to create a release for ${params.tag_name}: ${describeHttpError(err)} (a release for this tag may already exist, or the tag was used by an immutable release)`,
          { cause: err },
        );
      }
      throw this.apiError(`creating the draft release for ${params.tag_name}`, err);
    }
  }

  async update(
    id: number,
    params: {
      name?: string;
      body?: string;
      prerelease?: boolean;
      draft?: boolean;
      make_latest?: 'true' | 'false' | 'legacy';
      target_commitish?: string;
      tag_name?: string;
    },
  ): Promise<GhRelease> {
    try {
      const res = await this.call('update release', () =>
        this.client.rest.repos.updateRelease({ owner: this.owner, repo: this.repo, release_id: id, ...params }),
      );
      return res.data as GhRelease;
    } catch (err) {
      throw this.apiError(params.draft === false ? 'publishing the release' : 'updating the release', err);
    }
  }

  /** Every asset of the release (all pages, 100 at a time). */
  async listAssets(releaseId: number): Promise<GhAsset[]> {
    try {
      return (await this.call('list assets', () =>
        this.client.paginate(this.client.rest.repos.listReleaseAssets, {
          owner: this.owner,
          repo: this.repo,
          release_id: releaseId,
          ...this.pageParams,
        }),
      )) as GhAsset[];
    } catch (err) {
      throw this.apiError('listing the release assets', err);
    }
  }

  /** Deletes a (draft) release with its assets: `release.replace_existing_draft`. */
  deleteRelease(releaseId: number): Promise<void> {
    return this.deleteIdempotent('delete release', 'deleting a draft release', () =>
      this.client.rest.repos.deleteRelease({ owner: this.owner, repo: this.repo, release_id: releaseId }),
    );
  }

  deleteAsset(assetId: number): Promise<void> {
    return this.deleteIdempotent('delete asset', 'deleting a release asset', () =>
      this.client.rest.repos.deleteReleaseAsset({ owner: this.owner, repo: this.repo, asset_id: assetId }),
    );
  }

  /** A DELETE whose 404 means "already gone" (a retried DELETE whose first try succeeded): fine. */
  private async deleteIdempotent(what: string, doing: string, request: () => Promise<unknown>): Promise<void> {
    try {
      await this.call(what, request);
    } catch (err) {
      if (httpStatus(err) === 404) return;
      throw this.apiError(doing, err);
    }
  }

  /**
   * One streamed POST of `asset` to the release's upload_url, retried on
   * transient failures; every try opens the file afresh. A 422 is thrown
   * to the caller (see uploadAsset).
   */
  async uploadOnce(release: GhRelease, asset: LocalAsset, progress?: ProgressSink): Promise<GhAsset> {
    const res = await this.call(`upload ${asset.name}`, (attempt) => {
      progress?.start?.(asset, attempt);
      return this.client.rest.repos.uploadReleaseAsset({
        owner: this.owner,
        repo: this.repo,
        release_id: release.id,
        url: release.upload_url,
        name: asset.name,
        ...(asset.label !== undefined ? { label: asset.label } : {}),
        // Typed as string; any fetch body works. A fresh stream per try.
        data: fileBody(asset, progress) as unknown as string,
        headers: { 'content-type': asset.contentType, 'content-length': asset.size },
        request: { signal: this.options.signal, fetch: this.options.uploadFetch ?? streamingFetch },
      });
    });
    return res.data as GhAsset;
  }

  apiError(doing: string, err: unknown): Error {
    if (err instanceof RelsignError) return err;
    if ((err as { name?: string })?.name === 'AbortError') return err as Error;
    const status = httpStatus(err);
    if (status === 401) {
      return new RelsignError(`GitHub rejected the token while ${doing} (401 Bad credentials): check GITHUB_TOKEN`, {
        cause: err,
      });
    }
    return new RelsignError(`GitHub API error while ${doing} on ${this.slug}: ${describeHttpError(err)}`, { cause: err });
  }
}

/** The file as an async iterable of chunks, counting bytes for progress. Opened on first read. */
async function* fileBody(asset: LocalAsset, progress?: ProgressSink): AsyncGenerator<Uint8Array> {
  let sent = 0;
  const stream = createReadStream(asset.path, { highWaterMark: 1 << 20 });
  try {
    for await (const chunk of stream) {
      sent += (chunk as Buffer).length;
      progress?.bytes?.(asset, sent);
      yield chunk as Buffer;
    }
  } finally {
    stream.destroy();
  }
}

export function digestOf(asset: LocalAsset): string {
  return `sha256:${asset.sha256}`;
}

/** True when GitHub's copy is complete and byte-identical to the local file. */
export function sameContent(remote: GhAsset, local: LocalAsset): boolean {
  return remote.state === 'uploaded' && remote.size === local.size && typeof remote.digest === 'string' && remote.digest.toLowerCase() === digestOf(local);
}

export function conflictError(asset: LocalAsset, remote: GhAsset, release: GhRelease): RelsignError {
  const why =
    typeof remote.digest === 'string'
      ? `its digest ${remote.digest} differs from the local ${digestOf(asset)}`
      : `the server reports no digest, so it cannot be proven identical (size ${remote.size} vs ${asset.size})`;
  return new RelsignError(
    `asset ${asset.name} already exists on release ${release.tag_name} and ${why}; set release.replace_existing_artifacts: true to replace it`,
  );
}

export interface UploadAssetOptions {
  replaceExisting: boolean;
  progress?: ProgressSink;
  /** Called when a leftover or conflicting asset is deleted. */
  onDelete?: (remote: GhAsset, reason: 'leftover' | 'replace') => void;
}

/**
 * Uploads one asset, resolving a 422 `already_exists` the idempotent way:
 * list the assets (all pages) and look at the one with that name. Identical
 * content → kept; an incomplete leftover (state `starter`, e.g. after a
 * 502) → deleted and uploaded again; different content → replaced when
 * `replaceExisting`, else a clear error.
 */
export async function uploadAsset(
  api: ReleaseApi,
  release: GhRelease,
  asset: LocalAsset,
  options: UploadAssetOptions,
): Promise<{ asset: GhAsset; status: AssetStatus }> {
  let replaced = false;
  for (let conflicts = 0; ; conflicts++) {
    try {
      const uploaded = await api.uploadOnce(release, asset, options.progress);
      return { asset: uploaded, status: replaced ? 'replaced' : 'uploaded' };
    } catch (err) {
      if (!isAlreadyExists(err)) {
        if (err instanceof RelsignError || (err as { name?: string })?.name === 'AbortError') throw err;
        throw new RelsignError(`uploading ${asset.name} failed: ${describeHttpError(err)}`, { cause: err });
      }
      if (conflicts >= 3) {
        throw new RelsignError(`uploading ${asset.name} keeps failing with "already exists" after deleting the old asset`, {
          cause: err,
        });
      }
      const existing = (await api.listAssets(release.id)).find((a) => a.name === asset.name);
      if (!existing) continue; // deleted meanwhile: just try again
      if (existing.state !== 'uploaded') {
        options.onDelete?.(existing, 'leftover');
        await api.deleteAsset(existing.id);
        continue;
      }
      if (sameContent(existing, asset)) return { asset: existing, status: 'kept' };
      if (!options.replaceExisting) throw conflictError(asset, existing, release);
      options.onDelete?.(existing, 'replace');
      await api.deleteAsset(existing.id);
      replaced = true;
    }
  }
}
