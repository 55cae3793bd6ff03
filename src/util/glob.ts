import fs from 'node:fs';
import { posix, relative, resolve, sep } from 'node:path';
import { globby } from 'globby';
import { RelsignError } from './errors.js';
import { isWithin, realLocation, resolveInside } from './fs.js';

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
