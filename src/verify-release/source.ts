/**
 * Where a release's assets come from: a folder of downloaded files, or a
 * GitHub Release, downloaded into a private temporary folder. Either way the
 * result is the same list of local files with their size and SHA-256,
 * computed while reading (streamed, never a whole file in memory), plus the
 * problems found on the way, each naming its asset.
 *
 * Asset names are hostile: a name that is not one plain file name (relsign's
 * artifact-name rule) is never used as a path; it is reported instead.
 */
import { createHash } from 'node:crypto';
import { constants, createWriteStream } from 'node:fs';
import { mkdtemp, open, opendir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { checkArtifactName } from '../pipeline/artifact-name.js';
import { createGitHubClient, describeHttpError, httpStatus, realClock, withRetry, DEFAULT_RETRY, type Clock, type RetryOptions } from '../github/client.js';
import { streamingFetch } from '../github/http.js';
import { describeError, RelsignError } from '../util/errors.js';
import { describeFsError } from '../util/fs.js';
import { mapLimit } from '../util/concurrency.js';

/** GitHub's limits: 1000 assets per release, each under 2 GiB. */
export const MAX_ASSETS = 1000;
export const MAX_ASSET_BYTES = 2 * 1024 ** 3;
/** Entries looked at in a folder before giving up (files, folders, anything). */
const MAX_DIR_ENTRIES = 10_000;
const MAX_REDIRECTS = 5;

export interface LocalAsset {
  name: string;
  path: string;
  size: number;
  sha256: string;
}

export interface Problem {
  /** The asset (or image, or manifest) the problem is about. */
  subject: string;
  reason: string;
}

export interface CollectedRelease {
  /** `owner/repo@tag` or the folder. */
  label: string;
  /** Remote mode: what was asked for, for the manifest's repository and tag to match. */
  repository?: string;
  tag?: string;
  assets: LocalAsset[];
  problems: Problem[];
  /** Removes the temporary folder of a download (nothing for a folder). */
  cleanup(): Promise<void>;
}

/** Shows a hostile name safely in a message. */
export function shownName(name: string): string {
  return JSON.stringify(name.length > 80 ? `${name.slice(0, 77)}...` : name);
}

function nameProblem(name: string): string | undefined {
  try {
    checkArtifactName(name, 'asset');
    return undefined;
  } catch (err) {
    return describeError(err).replace(/^asset: name /, 'the name ');
  }
}

/** Hashes an open file's bytes (streamed) and returns its size and SHA-256. */
async function hashOpenFile(handle: import('node:fs/promises').FileHandle): Promise<{ size: number; sha256: string }> {
  const h = createHash('sha256');
  let size = 0;
  for await (const chunk of handle.createReadStream({ autoClose: false })) {
    h.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { size, sha256: h.digest('hex') };
}

/**
 * The regular files directly in `dir` (not recursive). Hidden files and
 * sub-folders are skipped; a symbolic link is reported and not followed (it
 * could point anywhere).
 */
export async function collectFromDir(dir: string): Promise<CollectedRelease> {
  let handle;
  try {
    handle = await opendir(dir);
  } catch (err) {
    throw new RelsignError(`cannot read folder ${dir}: ${describeFsError(err)}`);
  }
  const assets: LocalAsset[] = [];
  const problems: Problem[] = [];
  const names: string[] = [];
  let seen = 0;
  try {
    for await (const e of handle) {
      if (++seen > MAX_DIR_ENTRIES) throw new RelsignError(`folder ${dir} has more than ${MAX_DIR_ENTRIES} entries; a release has at most ${MAX_ASSETS} assets`);
      if (e.name.startsWith('.') || e.isDirectory()) continue;
      if (e.isSymbolicLink()) {
        problems.push({ subject: e.name, reason: 'is a symbolic link; only regular files in the folder are read' });
        continue;
      }
      if (!e.isFile()) continue;
      names.push(e.name);
    }
  } catch (err) {
    if (err instanceof RelsignError) throw err;
    throw new RelsignError(`cannot read folder ${dir}: ${describeFsError(err)}`);
  }
  if (names.length > MAX_ASSETS) throw new RelsignError(`folder ${dir} has ${names.length} files; a release has at most ${MAX_ASSETS} assets`);
  names.sort();
  await mapLimit(names, 4, async (name) => {
    const bad = nameProblem(name);
    if (bad) {
      problems.push({ subject: shownName(name), reason: `${bad}; not read` });
      return;
    }
    const path = join(dir, name);
    // O_NOFOLLOW: a file swapped for a link after the listing is refused, not followed.
    let fh;
    try {
      fh = await open(path, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
    } catch (err) {
      problems.push({ subject: name, reason: `cannot read: ${describeFsError(err)}` });
      return;
    }
    try {
      const st = await fh.stat();
      if (!st.isFile()) {
        problems.push({ subject: name, reason: 'is not a regular file' });
        return;
      }
      if (st.size > MAX_ASSET_BYTES) {
        problems.push({ subject: name, reason: `is ${st.size} bytes; release assets are at most 2 GiB` });
        return;
      }
      assets.push({ name, path, ...(await hashOpenFile(fh)) });
    } finally {
      await fh.close();
    }
  });
  assets.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { label: dir, assets, problems, cleanup: async () => undefined };
}

export interface GitHubSourceOptions {
  owner: string;
  repo: string;
  tag: string;
  /** API root: https://api.github.com, or https://HOST/api/v3 for GitHub Enterprise Server. */
  apiUrl: string;
  /** Optional for a public repository. */
  token?: string;
  /** Downloads at once. */
  concurrency?: number;
  retry?: Partial<RetryOptions>;
  clock?: Clock;
  signal?: AbortSignal;
  /** Where to create the private temporary folder (default: the OS temp folder). */
  tmpRoot?: string;
}

interface ListedAsset {
  id: number;
  name: string;
  size: number;
  state: string;
  url: string;
  digest?: string | null;
}

/** An HTTP failure in a form the retry policy reads (status, headers). */
class DownloadHttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly response: { headers: Record<string, string> },
  ) {
    super(message);
  }
}

/**
 * Lists the release by tag and downloads every asset into a new private
 * folder (mode 0700), each checked against the size GitHub lists and, when
 * GitHub gives one, its `digest`.
 */
export async function collectFromGitHub(o: GitHubSourceOptions): Promise<CollectedRelease> {
  const label = `${o.owner}/${o.repo}@${o.tag}`;
  const client = createGitHubClient({ token: o.token ?? '', apiUrl: o.apiUrl, signal: o.signal });
  const clock = o.clock ?? realClock;
  const retry = { ...DEFAULT_RETRY, attempts: 4, maxRateLimitWaitMs: 60_000, ...o.retry };
  const api = <T>(fn: () => Promise<T>): Promise<T> => withRetry(fn, { retry, clock, signal: o.signal });

  let releaseId: number;
  try {
    const r = await api(() => client.rest.repos.getReleaseByTag({ owner: o.owner, repo: o.repo, tag: o.tag }));
    releaseId = r.data.id;
  } catch (err) {
    const status = httpStatus(err);
    if (status === 404) {
      throw new RelsignError(
        `${label}: no published release with tag ${o.tag} (a draft release is not visible by tag${o.token ? '' : '; for a private repository set GITHUB_TOKEN'}; download a draft's assets and verify the folder)`,
      );
    }
    if (status === 401) throw new RelsignError(`${label}: GitHub refused the token (401 Bad credentials); check GITHUB_TOKEN / GH_TOKEN`);
    throw new RelsignError(`${label}: cannot read the release: ${describeHttpError(err)}`);
  }

  const listed: ListedAsset[] = [];
  try {
    const pages = client.paginate.iterator(client.rest.repos.listReleaseAssets, { owner: o.owner, repo: o.repo, release_id: releaseId, per_page: 100 });
    for await (const page of pages) {
      for (const a of page.data) {
        if (!Number.isSafeInteger(a.id) || a.id <= 0) throw new RelsignError(`${label}: GitHub listed an asset with id ${JSON.stringify(a.id)}`);
        // The download URL is built from the API root, never taken from the listing: a listing cannot send the token elsewhere.
        const url = `${o.apiUrl.replace(/\/+$/, '')}/repos/${encodeURIComponent(o.owner)}/${encodeURIComponent(o.repo)}/releases/assets/${a.id}`;
        listed.push({ id: a.id, name: String(a.name), size: a.size, state: String(a.state), url, digest: (a as { digest?: string | null }).digest });
      }
      if (listed.length > MAX_ASSETS) throw new RelsignError(`${label}: the release lists more than ${MAX_ASSETS} assets, more than GitHub allows`);
    }
  } catch (err) {
    if (err instanceof RelsignError) throw err;
    throw new RelsignError(`${label}: cannot list the release's assets: ${describeHttpError(err)}`);
  }

  const dir = await mkdtemp(join(o.tmpRoot ?? tmpdir(), 'relsign-verify-release-'));
  const cleanup = () => rm(dir, { recursive: true, force: true });
  const problems: Problem[] = [];
  const assets: LocalAsset[] = [];
  const names = new Set<string>();
  try {
    const wanted: ListedAsset[] = [];
    for (const a of listed) {
      const bad = nameProblem(a.name);
      if (bad) problems.push({ subject: shownName(a.name), reason: `${bad}; not downloaded` });
      else if (names.has(a.name)) problems.push({ subject: a.name, reason: 'is listed twice by GitHub; not downloaded' });
      else if (a.state !== 'uploaded') problems.push({ subject: a.name, reason: `its upload is incomplete (state ${JSON.stringify(a.state)}); not downloaded` });
      else if (!Number.isSafeInteger(a.size) || a.size < 0 || a.size >= MAX_ASSET_BYTES) problems.push({ subject: a.name, reason: `GitHub lists its size as ${a.size} bytes; release assets are under 2 GiB; not downloaded` });
      else {
        names.add(a.name);
        wanted.push(a);
      }
    }
    await mapLimit(
      wanted,
      o.concurrency ?? 4,
      async (a) => {
        const path = join(dir, a.name);
        const refuse = async (reason: string): Promise<void> => {
          problems.push({ subject: a.name, reason });
          await rm(path, { force: true }); // only checked downloads stay
        };
        try {
          const got = await withRetry(() => download(a, path, o.token, o.signal), { retry, clock, signal: o.signal });
          if (got.size !== a.size) return await refuse(`downloaded ${got.size} bytes, GitHub lists ${a.size}`);
          const digest = typeof a.digest === 'string' && a.digest.startsWith('sha256:') ? a.digest.slice(7).toLowerCase() : undefined;
          if (digest !== undefined && digest !== got.sha256) return await refuse(`the downloaded bytes have sha256 ${got.sha256}, GitHub lists ${digest}`);
          assets.push({ name: a.name, path, size: got.size, sha256: got.sha256 });
        } catch (err) {
          if (err instanceof TooLarge) await refuse(`the download is larger than the ${a.size} bytes GitHub lists; stopped`);
          else await refuse(`download failed: ${err instanceof DownloadHttpError ? err.message : describeHttpError(err)}`);
        }
      },
      { signal: o.signal },
    );
  } catch (err) {
    await cleanup();
    throw err;
  }
  assets.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { label, repository: `${o.owner}/${o.repo}`, tag: o.tag, assets, problems, cleanup };
}

class TooLarge extends Error {}

/**
 * One asset, by its API URL with `Accept: application/octet-stream`: GitHub
 * answers with a redirect to storage, which is followed without the token (the
 * storage URL is pre-signed). Writes to `path`, stopping past the listed size.
 */
async function download(a: ListedAsset, path: string, token: string | undefined, signal?: AbortSignal): Promise<{ size: number; sha256: string }> {
  let url = a.url;
  let headers: Record<string, string> = { accept: 'application/octet-stream', 'user-agent': 'relsign' };
  if (token) headers.authorization = `Bearer ${token}`;
  let res: Response | undefined;
  for (let hop = 0; ; hop++) {
    res = await streamingFetch(url, { method: 'GET', headers, signal });
    if (res.status >= 300 && res.status < 400 && res.headers.get('location')) {
      await res.body?.cancel();
      if (hop >= MAX_REDIRECTS) throw new DownloadHttpError(310, `more than ${MAX_REDIRECTS} redirects`, { headers: {} });
      const next = new URL(res.headers.get('location')!, url);
      if (next.protocol !== 'https:' && !(next.protocol === 'http:' && new URL(url).protocol === 'http:')) {
        throw new DownloadHttpError(400, `redirected to ${next.protocol} URL`, { headers: {} });
      }
      url = next.href;
      headers = { 'user-agent': 'relsign' };
      continue;
    }
    break;
  }
  if (res.status !== 200) {
    await res.body?.cancel();
    const h: Record<string, string> = {};
    res.headers.forEach((v, k) => (h[k] = v));
    throw new DownloadHttpError(res.status, `HTTP ${res.status} from ${new URL(url).host}`, { headers: h });
  }
  if (!res.body) throw new DownloadHttpError(502, 'the download has no body', { headers: {} });
  const h = createHash('sha256');
  let size = 0;
  const limit = a.size;
  const count = new Transform({
    transform(chunk: Buffer, _enc, done) {
      size += chunk.length;
      if (size > limit) return done(new TooLarge());
      h.update(chunk);
      done(null, chunk);
    },
  });
  // The folder is ours (mkdtemp, 0700) and the name is one plain file name.
  await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>), count, createWriteStream(path, { mode: 0o600 }), { signal });
  return { size, sha256: h.digest('hex') };
}
