import { stat } from 'node:fs/promises';
import { basename, posix, relative, sep } from 'node:path';
import type { ArchiveFileConfig } from '../../config/types.js';
import type { Artifact } from '../../pipeline/artifacts.js';
import type { Context } from '../../pipeline/context.js';
import { render } from '../../pipeline/template-data.js';
import { RelsignError } from '../../util/errors.js';
import { globBase, globInProject } from '../../util/glob.js';
import type { ArchiveEntry } from './writer.js';

/** GoReleaser's default `files`: license/readme/changelog in any letter case, top level only. */
export const DEFAULT_FILE_GLOBS = ['README*', 'LICENSE*', 'CHANGELOG*'];
export const FILE_MODE = 0o644;
export const BINARY_MODE = 0o755;

/**
 * Checks and normalizes a path inside an archive: forward slashes, no `.`
 * segments, and never outside the archive root (`../x`, `/etc/x`).
 */
export function archivePath(path: string, where: string): string {
  const slashed = path.split(sep).join('/').replace(/\\/g, '/');
  if (posix.isAbsolute(slashed) || /^[A-Za-z]:\//.test(slashed)) {
    throw new RelsignError(`${where}: ${JSON.stringify(path)} is an absolute path; paths inside an archive must be relative`);
  }
  const norm = posix.normalize(slashed).replace(/\/+$/, '');
  if (norm === '..' || norm.startsWith('../')) {
    throw new RelsignError(`${where}: ${JSON.stringify(path)} escapes the archive root`);
  }
  if (norm === '.' || norm === '') throw new RelsignError(`${where}: empty path inside the archive`);
  return norm;
}

/**
 * Resolves `files` (or the defaults when none are configured) to archive
 * entries, templated with the group's artifact fields. Sorted by destination;
 * duplicates keep the first (config order) with a warning.
 */
export async function resolveFiles(
  ctx: Context,
  files: readonly ArchiveFileConfig[],
  where: string,
  artifact: Artifact | undefined,
): Promise<ArchiveEntry[]> {
  const distRel = relative(ctx.cwd, ctx.distDir).split(sep).join('/');
  const ignore = distRel && !distRel.startsWith('..') ? [`${distRel}/**`] : [];
  const specs: Array<{ cfg: Exclude<ArchiveFileConfig, string>; where: string; isDefault: boolean }> =
    files.length > 0
      ? files.map((f, i) => ({ cfg: typeof f === 'string' ? { src: f } : f, where: `${where}[${i}]`, isDefault: false }))
      : DEFAULT_FILE_GLOBS.map((g) => ({ cfg: { src: g }, where, isDefault: true }));
  const out: ArchiveEntry[] = [];
  const seen = new Map<string, string>();
  for (const { cfg, where: w, isDefault } of specs) {
    const opts = { artifact };
    const src = render(ctx, cfg.src, `${w}.src`, opts);
    const dst = cfg.dst !== undefined ? render(ctx, cfg.dst, `${w}.dst`, opts) : undefined;
    const info = cfg.info ?? {};
    const owner = info.owner !== undefined ? render(ctx, info.owner, `${w}.info.owner`, opts) : '';
    const group = info.group !== undefined ? render(ctx, info.group, `${w}.info.group`, opts) : '';
    let mtime = ctx.git.commitDate;
    if (info.mtime !== undefined) {
      const text = render(ctx, info.mtime, `${w}.info.mtime`, opts);
      mtime = new Date(text);
      if (!/^\d{4}-\d{2}-\d{2}T/.test(text) || Number.isNaN(mtime.getTime())) {
        throw new RelsignError(`${w}.info.mtime: ${JSON.stringify(text)} is not an RFC 3339 time`);
      }
    }
    const mode = info.mode ?? FILE_MODE;
    const matches = await globInProject(ctx.cwd, src, `${w}.src`, { dot: true, caseSensitiveMatch: !isDefault, ignore });
    if (matches.length === 0 && !isDefault) ctx.log.warn(`${w}.src: no files matched ${JSON.stringify(src)}`);
    const base = globBase(src);
    for (const { match: m, real } of matches) {
      let dest: string;
      if (cfg.strip_parent) dest = posix.join(dst ?? '', basename(m));
      else if (dst !== undefined) dest = posix.join(dst, posix.relative(base, m));
      else dest = m;
      dest = archivePath(dest, `${w}${dst !== undefined ? '.dst' : '.src'}`);
      // The real path: what was checked is what is read, even if a symlink changes meanwhile.
      const abs = real;
      const first = seen.get(dest);
      if (first !== undefined) {
        if (first !== abs) ctx.log.warn(`${w}: ${dest} is already in the archive (from ${relative(ctx.cwd, first)}); keeping the first`);
        continue;
      }
      seen.set(dest, abs);
      out.push({ src: abs, dst: dest, mode, mtime, owner, group, stats: await stat(abs) });
    }
  }
  return out.sort((a, b) => (a.dst < b.dst ? -1 : a.dst > b.dst ? 1 : 0));
}
