import { execa } from 'execa';
import { RelsignError } from '../util/errors.js';
import type { GitInfo, SemverParts } from '../pipeline/context.js';

/** Runs git in `cwd`; returns trimmed stdout, or undefined when git exits non-zero. */
export async function git(cwd: string, args: string[], signal?: AbortSignal): Promise<string | undefined> {
  const r = await execa('git', args, { cwd, reject: false, stdin: 'ignore', cancelSignal: signal, env: { LC_ALL: 'C' } });
  if (r.failed) {
    if ((r as { code?: string }).code === 'ENOENT') throw new RelsignError('git not found in PATH');
    return undefined;
  }
  return String(r.stdout).trimEnd();
}

/** What to do about a shallow clone; named in the git stage's warning and the changelog's error. */
export const SHALLOW_CLONE_HINT =
  'fetch the full history: actions/checkout with `fetch-depth: 0`, GitLab `GIT_DEPTH: 0`, or `git fetch --unshallow --tags`; or set RELSIGN_PREVIOUS_TAG';

/** Removes `user:password@` from https URLs so a token in a remote never reaches a template or log. */
export function stripCredentials(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/]*@/i, '$1');
}

export interface ReadGitOptions {
  cwd: string;
  /** RELSIGN_CURRENT_TAG / RELSIGN_PREVIOUS_TAG overrides. */
  env: Record<string, string | undefined>;
  snapshot: boolean;
  signal?: AbortSignal;
}

/**
 * Reads what a release needs from git. A real release needs a clean tree and
 * a tag on HEAD; --snapshot tolerates both (and even a folder that is not a
 * repository), as GoReleaser does.
 */
export async function readGitInfo(o: ReadGitOptions): Promise<GitInfo> {
  const inside = await git(o.cwd, ['rev-parse', '--is-inside-work-tree'], o.signal);
  if (inside !== 'true') {
    if (o.snapshot) return fakeInfo();
    throw new RelsignError(`${o.cwd} is not a git repository; run relsign in your project's repository or use --snapshot`);
  }
  const fullCommit = await git(o.cwd, ['rev-parse', '--verify', 'HEAD'], o.signal);
  if (!fullCommit) {
    if (o.snapshot) return fakeInfo();
    throw new RelsignError('git repository has no commits yet; commit and tag first, or use --snapshot');
  }
  const [shortCommit, dateStr, branch, status, remote, summary, shallowFlag] = await Promise.all([
    git(o.cwd, ['rev-parse', '--short', 'HEAD'], o.signal),
    git(o.cwd, ['show', '-s', '--format=%cI', 'HEAD'], o.signal),
    git(o.cwd, ['rev-parse', '--abbrev-ref', 'HEAD'], o.signal),
    git(o.cwd, ['status', '--porcelain'], o.signal),
    git(o.cwd, ['ls-remote', '--get-url'], o.signal),
    git(o.cwd, ['describe', '--always', '--dirty', '--tags'], o.signal),
    git(o.cwd, ['rev-parse', '--is-shallow-repository'], o.signal),
  ]);
  const shallow = shallowFlag === 'true';
  const dirty = (status ?? '') !== '';

  let tag = o.env.RELSIGN_CURRENT_TAG?.trim() || '';
  if (!tag) {
    const pointing = await git(o.cwd, ['tag', '--points-at', 'HEAD', '--sort=-version:refname'], o.signal);
    tag = (pointing ?? '').split('\n').map((t) => t.trim()).filter(Boolean)[0] ?? '';
  }
  if (!o.snapshot) {
    if (!tag) {
      throw new RelsignError('no git tag points at HEAD; tag the commit (git tag v1.2.3) or use --snapshot');
    }
    if (dirty) {
      const files = (status ?? '').split('\n').slice(0, 5).map((l) => l.slice(3)).join(', ');
      throw new RelsignError(`git is in a dirty state (${files}); commit or discard the changes, or use --snapshot`);
    }
    if (o.env.RELSIGN_CURRENT_TAG) {
      const at = await git(o.cwd, ['rev-list', '-n', '1', `refs/tags/${tag}`], o.signal);
      if (at !== fullCommit) {
        throw new RelsignError(`git tag ${tag} was not made against commit ${fullCommit} (HEAD)`);
      }
    }
  }

  let previousTag = o.env.RELSIGN_PREVIOUS_TAG?.trim() || '';
  // In a shallow clone the nearest tag found may only be the nearest one fetched,
  // so none is guessed there: the changelog stage refuses or warns instead.
  if (!previousTag && tag && !shallow) {
    // Nearest tag reachable from the tag's parent, as GoReleaser finds it.
    previousTag = (await git(o.cwd, ['describe', '--tags', '--abbrev=0', `${tag}^`], o.signal)) ?? '';
  }

  return {
    tag: tag || 'v0.0.0',
    previousTag,
    fullCommit,
    shortCommit: shortCommit ?? fullCommit.slice(0, 7),
    commitDate: dateStr ? new Date(dateStr) : new Date(0),
    branch: branch ?? '',
    dirty,
    url: stripCredentials(remote ?? ''),
    summary: summary ?? '',
    shallow,
  };
}

function fakeInfo(): GitInfo {
  return {
    tag: 'v0.0.0',
    previousTag: '',
    fullCommit: 'none',
    shortCommit: 'none',
    commitDate: new Date(0),
    branch: 'none',
    dirty: false,
    url: '',
    summary: 'none',
  };
}

const SEMVER = /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z.-]+))?(?:\+([0-9A-Za-z.-]+))?$/;

/** Strict SemVer 2.0 with an optional leading `v`; undefined when the tag is not semver. */
export function parseSemver(tag: string): SemverParts | undefined {
  const m = SEMVER.exec(tag.trim());
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), prerelease: m[4] ?? '', build: m[5] ?? '' };
}

/** Project name from a remote URL: `git@github.com:o/r.git` → `r`. */
export function repoFromUrl(url: string): { owner: string; name: string } | undefined {
  const m = /[/:]([^/:]+)\/([^/]+?)(?:\.git)?\/?$/.exec(url);
  return m ? { owner: m[1]!, name: m[2]! } : undefined;
}
