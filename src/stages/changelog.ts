import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { git, SHALLOW_CLONE_HINT } from '../git/index.js';
import type { Context } from '../pipeline/context.js';
import type { Stage } from '../pipeline/stage.js';
import { RelsignError } from '../util/errors.js';
import { compileUserRegexp, type UserRegexp } from '../util/re2.js';
import { writeFileAtomic } from '../util/fs.js';

export interface ChangelogEntry {
  hash: string;
  subject: string;
}

export interface BuildChangelogOptions {
  cwd: string;
  /** Previous tag; empty means "all history up to `to`". */
  from: string;
  /** Current tag, or HEAD. */
  to: string;
  sort?: 'asc' | 'desc' | '';
  /** Regexes over commit subjects. */
  include?: readonly string[];
  exclude?: readonly string[];
  signal?: AbortSignal;
}

/** Go RE2 syntax, linear-time matching (src/util/re2.ts), as GoReleaser's filters. */
function compile(patterns: readonly string[] | undefined, where: string): UserRegexp[] {
  return (patterns ?? []).map((p, i) => {
    try {
      return compileUserRegexp(p);
    } catch (err) {
      throw new RelsignError(`changelog.filters.${where}[${i}]: invalid regular expression ${JSON.stringify(p)}: ${(err as Error).message}`);
    }
  });
}

/** Commits in `from..to` (short hash + subject), filtered and sorted as GoReleaser's git changelog. */
export async function changelogEntries(o: BuildChangelogOptions): Promise<ChangelogEntry[]> {
  const include = compile(o.include, 'include');
  const exclude = compile(o.exclude, 'exclude');
  const range = o.from ? `${o.from}..${o.to}` : o.to;
  const out = await git(o.cwd, ['log', '--no-decorate', '--no-color', '--pretty=format:%h%x09%s', range, '--'], o.signal);
  if (out === undefined) throw new RelsignError(`git log ${range} failed: is ${o.from || o.to} a tag in this repository?`);
  let entries = out
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const tab = l.indexOf('\t');
      return { hash: l.slice(0, tab), subject: l.slice(tab + 1) };
    });
  if (include.length > 0) entries = entries.filter((e) => include.some((r) => r.test(e.subject)));
  if (exclude.length > 0) entries = entries.filter((e) => !exclude.some((r) => r.test(e.subject)));
  if (o.sort === 'asc') entries.sort((a, b) => (a.subject < b.subject ? -1 : a.subject > b.subject ? 1 : 0));
  if (o.sort === 'desc') entries.sort((a, b) => (a.subject < b.subject ? 1 : a.subject > b.subject ? -1 : 0));
  return entries;
}

export function formatChangelog(entries: readonly ChangelogEntry[]): string {
  return `## Changelog\n\n${entries.map((e) => `* ${e.hash} ${e.subject}`).join('\n')}${entries.length ? '\n' : ''}`;
}

/**
 * Release notes: the file given with --release-notes, else a changelog from
 * `git log PREVIOUS_TAG..TAG`. Runs under --snapshot too and writes
 * dist/CHANGELOG.md; the release stage adds release.header/footer.
 */
export const changelogStage: Stage = {
  name: 'changelog',
  description: 'writing release notes',
  skip(ctx) {
    if (ctx.options.releaseNotes) return false;
    if (ctx.options.skip.has('changelog')) return '--skip changelog';
    if (ctx.config.changelog.disable) return 'changelog.disable is set';
    return false;
  },
  async run(ctx) {
    ctx.releaseNotes = await releaseNotesFor(ctx);
    await mkdir(ctx.distDir, { recursive: true });
    const target = join(ctx.distDir, 'CHANGELOG.md');
    await writeFileAtomic(target, ctx.releaseNotes);
    ctx.log.debug(`wrote ${target}`);
  },
};

async function releaseNotesFor(ctx: Context): Promise<string> {
  const file = ctx.options.releaseNotes;
  if (file) {
    try {
      return await readFile(resolve(ctx.cwd, file), 'utf8');
    } catch (err) {
      throw new RelsignError(`--release-notes ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
    }
  }
  if (ctx.git.fullCommit === 'none') return formatChangelog([]); // --snapshot outside a repository
  if (ctx.git.shallow && !ctx.git.previousTag && !ctx.options.snapshot) {
    // `git log TAG` in a shallow clone lists only the fetched commits: a wrong changelog, not a short one.
    throw new RelsignError(`changelog: the repository is a shallow clone, so the previous tag is unknown; ${SHALLOW_CLONE_HINT}, or pass --release-notes FILE`);
  }
  const c = ctx.config.changelog;
  const entries = await changelogEntries({
    cwd: ctx.cwd,
    from: ctx.git.previousTag,
    // A snapshot's tag may be made up (v0.0.0): log up to HEAD.
    to: ctx.options.snapshot ? 'HEAD' : ctx.git.tag,
    sort: c.sort,
    include: c.filters.include,
    exclude: c.filters.exclude,
    signal: ctx.signal,
  });
  return formatChangelog(entries);
}
