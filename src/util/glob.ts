import fs from 'node:fs';
import { posix, relative, resolve, sep } from 'node:path';
import { globby } from 'globby';
import { RelsignError } from './errors.js';
import { isWithin, realLocation, resolveInside } from './fs.js';

/**
 * Globs become backtracking regular expressions inside globby (picomatch):
 * with k `*` in one path segment, matching a name of n characters can take
 * about n^k steps (`*a*a*a*b` against a 200-character name: 0.7 s per file;
 * six stars: minutes). Patterns with more than MAX_STARS_PER_SEGMENT stars in
 * one segment are refused; `**` as a whole segment is not a star here (it
 * matches whole directories, not characters).
 */
export const MAX_STARS_PER_SEGMENT = 3;
export const MAX_GLOB_LENGTH = 4096;
/**
 * Brace groups (`{a,b}`, `{1..9}`) are expanded into separate patterns before
 * matching, so their product must stay small: `{a,b}` sixteen times is 65,536
 * patterns and took 14 s; twenty times did not finish.
 */
export const MAX_BRACE_EXPANSION = 256;

/** An upper bound on the number of patterns brace expansion makes (nested groups counted as products). */
function braceExpansionBound(pattern: string): number {
  let product = 1;
  const open: Array<{ start: number; alternatives: number }> = [];
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') i++;
    else if (c === '{') open.push({ start: i, alternatives: 1 });
    else if (c === ',' && open.length > 0) open[open.length - 1]!.alternatives++;
    else if (c === '}' && open.length > 0) {
      const group = open.pop()!;
      let n = group.alternatives;
      if (n === 1) {
        const range = /^(-?\d+|[^.])\.\.(-?\d+|[^.])(?:\.\.-?\d+)?$/.exec(pattern.slice(group.start + 1, i));
        if (range) {
          const at = (x: string) => (/^-?\d+$/.test(x) ? Number(x) : x.codePointAt(0)!);
          n = Math.abs(at(range[2]!) - at(range[1]!)) + 1;
        }
      }
      product *= n;
      if (product > MAX_BRACE_EXPANSION) return product;
    }
  }
  return product;
}

/** Throws a RelsignError naming `where` when `pattern` could make matching hang. */
export function checkGlob(pattern: string, where: string): void {
  if (pattern.length > MAX_GLOB_LENGTH) {
    throw new RelsignError(`${where}: glob is longer than ${MAX_GLOB_LENGTH} characters`);
  }
  if (braceExpansionBound(pattern) > MAX_BRACE_EXPANSION) {
    throw new RelsignError(
      `${where}: glob ${JSON.stringify(pattern)} expands its {…} groups into more than ${MAX_BRACE_EXPANSION} patterns; split it into several patterns`,
    );
  }
  for (const segment of pattern.split('/')) {
    if (segment === '**') continue;
    let stars = 0;
    for (let i = 0; i < segment.length; i++) {
      if (segment[i] === '\\') i++;
      else if (segment[i] === '*') {
        stars++;
        while (segment[i + 1] === '*') i++;
      }
    }
    if (stars > MAX_STARS_PER_SEGMENT) {
      throw new RelsignError(
        `${where}: glob ${JSON.stringify(pattern)} has ${stars} "*" in one path segment (at most ${MAX_STARS_PER_SEGMENT}: matching time grows as the name length to that power); split it into several patterns`,
      );
    }
  }
}

/** A file a glob matched, checked to be inside the project. */
export interface ProjectMatch {
  /** As matched, relative to the project folder with `/` separators (a symlink keeps its own name here). */
  match: string;
  /** Absolute real path (symlinks resolved): what is read. */
  real: string;
}

/** The part of a glob before its first wildcard, as a folder: `docs/**\/*.md` → `docs`; a plain path → its folder. */
export function globBase(pattern: string): string {
  const parts = pattern.split('/');
  const i = parts.findIndex((p) => /[*?[\]{}()!]/.test(p));
  if (i === -1) return posix.dirname(pattern);
  return parts.slice(0, i).join('/') || '.';
}

/**
 * Files matching `pattern` inside the project folder `root`, sorted. Every
 * setting that picks project files (archives[].files, checksum.extra_files,
 * release.extra_files) goes through here, so they share one rule: the
 * pattern is relative, it does not reach outside the project, and every
 * match, once symlinks are resolved, is inside the project too. A symlink
 * that stays inside is followed (its target's content is used); one that
 * leaves is an error naming it. Errors name `where`.
 */
export async function globInProject(
  root: string,
  pattern: string,
  where: string,
  options: { dot?: boolean; caseSensitiveMatch?: boolean; ignore?: string[] } = {},
): Promise<ProjectMatch[]> {
  checkGlob(pattern, where);
  const slashed = pattern.replace(/\\/g, '/');
  const hint = 'copy outside files in with a before hook';
  if (posix.isAbsolute(slashed) || /^[A-Za-z]:\//.test(slashed)) {
    throw new RelsignError(
      `${where}: ${JSON.stringify(pattern)} is an absolute path; use a path inside the project folder (${hint})`,
    );
  }
  await resolveInside(root, globBase(pattern), where, { shown: JSON.stringify(pattern), hint });
  // The walk itself stays inside too: a symlinked folder that leads out (say, to /) is
  // not listed, so `**` never wanders the file system; it is reported once the walk is done.
  const realRoot = (await resolveInside(root, '.', where)).real;
  let leftAt: string | undefined;
  const readdir = ((path: string, ...rest: unknown[]) => {
    const callback = rest.pop() as (err: NodeJS.ErrnoException | null, entries: unknown[]) => void;
    fs.realpath(path, (err, real) => {
      if (!err && !isWithin(realRoot, real)) {
        leftAt ??= path;
        callback(null, []);
        return;
      }
      (fs.readdir as (...args: unknown[]) => void)(path, ...rest, callback);
    });
  }) as unknown as typeof fs.readdir;
  const matches = await globby(pattern, {
    fs: { readdir },
    cwd: root,
    dot: options.dot ?? true,
    onlyFiles: true,
    followSymbolicLinks: true,
    caseSensitiveMatch: options.caseSensitiveMatch ?? true,
    ignore: options.ignore ?? [],
  });
  if (leftAt !== undefined) {
    const shown = relative(root, resolve(root, leftAt)).split(sep).join('/') || '.';
    throw new RelsignError(`${where}: ${shown} is outside the project folder ${realRoot} (it resolves to ${await realLocation(leftAt)}); ${hint}`);
  }
  const out: ProjectMatch[] = [];
  for (const m of matches.sort()) {
    const { real } = await resolveInside(root, m, where, { shown: m, hint });
    out.push({ match: relative(root, resolve(root, m)).split(sep).join('/'), real });
  }
  return out;
}
