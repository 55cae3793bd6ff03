import { stat } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import type { ArchiveConfig, ArchiveFormat } from '../../config/types.js';
import type { Artifact } from '../../pipeline/artifacts.js';
import { UPLOADABLE_TYPES } from '../../pipeline/artifacts.js';
import { isSkipped, type Context } from '../../pipeline/context.js';
import type { Stage } from '../../pipeline/stage.js';
import { ByteProgress, progressOutput } from '../../pipeline/progress.js';
import { checkArtifactName } from '../../pipeline/artifact-name.js';
import { render } from '../../pipeline/template-data.js';
import { mapLimit } from '../../util/concurrency.js';
import { RelsignError } from '../../util/errors.js';
import { BINARY_MODE, archivePath, resolveFiles } from './files.js';
import { describeFsError, writeArchive, type ArchiveEntry, type FileFormat } from './writer.js';

export { archivePath, resolveFiles } from './files.js';
export { writeArchive, portableGzip, type ArchiveEntry, type FileFormat } from './writer.js';

/** One platform's binaries (or, for `meta`, none). */
interface Group {
  key: string;
  binaries: Artifact[];
  /** The fields templates see: the first binary's os/arch/... (nothing for meta archives). */
  fields?: Artifact;
}

/** An archive to write, decided before anything is written (names are checked up front). */
interface Job {
  where: string;
  archive: ArchiveConfig;
  format: FileFormat;
  name: string;
  path: string;
  wrap: string;
  group: Group;
  entries: ArchiveEntry[];
}

const EXT: Record<FileFormat, string> = { 'tar.gz': 'tar.gz', tgz: 'tgz', tar: 'tar', zip: 'zip', gz: 'gz' };

/** format_overrides: first entry whose `goos` is a prefix of the target (`windows`, `linux_arm`) wins. */
export function formatsFor(a: ArchiveConfig, target: string | undefined, where: string, ctx: Context): ReadonlyArray<ArchiveFormat | 'none'> {
  if (target === undefined) return a.formats;
  for (const [k, o] of a.format_overrides.entries()) {
    if (!o.goos || o.formats.length === 0) {
      ctx.log.warn(`${where}.format_overrides[${k}]: needs goos and formats; ignored`);
      continue;
    }
    if (target.startsWith(o.goos)) return o.formats;
  }
  return a.formats;
}

function groupBinaries(binaries: readonly Artifact[]): Group[] {
  const groups = new Map<string, Group>();
  for (const b of binaries) {
    const key = b.target ?? [b.os, b.arch, b.arm].filter(Boolean).join('_');
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { key, binaries: [], fields: b }));
    g.binaries.push(b);
  }
  return [...groups.values()].sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
}

function wrapDir(ctx: Context, a: ArchiveConfig, where: string, fields: Artifact | undefined, archiveName: string): string {
  const w = a.wrap_in_directory;
  if (w === undefined || w === false || w === '' || w === 'false') return '';
  if (w === true || w === 'true') return archivePath(archiveName, `${where}.wrap_in_directory`);
  const dir = render(ctx, w, `${where}.wrap_in_directory`, { artifact: fields });
  return dir ? archivePath(dir, `${where}.wrap_in_directory`) : '';
}

/**
 * archives: one archive per platform (per format) for each `archives[]`
 * entry, from the binaries of the builds it selects plus `files`. Entries are
 * sorted and their metadata fixed (owner 0/0, commit-date mtime, modes 0755
 * for binaries and 0644 otherwise), so the same commit gives the same bytes.
 */
export const archiveStage: Stage = {
  name: 'archive',
  description: 'creating archives',
  skip(ctx) {
    if (isSkipped(ctx, 'archive')) return '--skip=archive';
    return ctx.config.archives.length === 0 ? 'no archives configured' : false;
  },
  async run(ctx) {
    const jobs: Job[] = [];
    const names = new Map<string, string>(); // asset name → config path that made it
    for (const a of ctx.artifacts.filter({ types: UPLOADABLE_TYPES })) names.set(a.name, a.type);
    const uploadables: Artifact[] = [];
    const ids = new Set<string>();

    for (const [i, a] of ctx.config.archives.entries()) {
      const where = `archives[${i}]`;
      if (ids.has(a.id)) throw new RelsignError(`${where}.id: found 2 archives with the id ${JSON.stringify(a.id)}`);
      ids.add(a.id);
      let groups: Group[];
      if (a.meta) {
        groups = [{ key: '', binaries: [] }];
      } else {
        const binaries = ctx.artifacts.filter({ types: ['binary'], ids: a.ids });
        if (binaries.length === 0) {
          if (a.ids.length > 0) throw new RelsignError(`${where}.ids: no binaries found for builds ${a.ids.join(', ')}`);
          ctx.log.warn(`${where}: no binaries to archive`);
          continue;
        }
        groups = groupBinaries(binaries);
        const counts = new Set(groups.map((g) => g.binaries.length));
        if (counts.size > 1 && !a.formats.includes('binary')) {
          ctx.log.warn(`${where}: platforms have different numbers of binaries (${groups.map((g) => `${g.key}: ${g.binaries.length}`).join(', ')})`);
        }
      }

      for (const group of groups) {
        const formats = formatsFor(a, group.fields?.target ?? (group.fields ? group.key : undefined), where, ctx);
        for (const format of formats) {
          if (format === 'none') continue;
          if (format === 'binary') {
            if (a.meta) throw new RelsignError(`${where}: a meta archive can't use the binary format`);
            for (const b of group.binaries) {
              const base = render(ctx, a.name_template, `${where}.name_template`, { artifact: b });
              const name = b.os === 'windows' && !base.toLowerCase().endsWith('.exe') ? `${base}.exe` : base;
              checkArtifactName(name, `${where}.name_template`);
              checkName(name, names, `${where}.name_template`);
              uploadables.push({
                type: 'uploadable_binary',
                name,
                path: resolve(ctx.cwd, b.path),
                id: a.id,
                os: b.os,
                arch: b.arch,
                ...(b.arm ? { arm: b.arm } : {}),
                target: b.target,
                extra: { ...b.extra, format: 'binary', build: b.id },
              });
            }
            continue;
          }
          const base = render(ctx, a.name_template, `${where}.name_template`, { artifact: group.fields });
          if (!base) throw new RelsignError(`${where}.name_template: rendered to an empty name`);
          const name = checkArtifactName(`${base}.${EXT[format]}`, `${where}.name_template`);
          checkName(name, names, `${where}.name_template`);
          const path = join(ctx.distDir, name);
          if (await stat(path).catch(() => undefined)) {
            throw new RelsignError(`${where}.name_template: archive named ${name} already exists in ${relative(ctx.cwd, ctx.distDir) || '.'}. Check your archive name template`);
          }
          const wrap = wrapDir(ctx, a, where, group.fields, base);
          const entries = await archiveEntries(ctx, a, where, group, format, wrap);
          jobs.push({ where, archive: a, format, name, path, wrap, group, entries });
        }
      }
    }

    const total = jobs.reduce((sum, job) => sum + job.entries.reduce((n, e) => n + e.stats.size, 0), 0);
    const progress = new ByteProgress('archiving', total, progressOutput(ctx.log));
    try {
      await mapLimit(jobs, ctx.options.parallelism, async (job) => {
        if (ctx.signal.aborted) throw new RelsignError(`archives: cancelled before ${job.name}`);
        progress.clear();
        ctx.log.info(`  archiving ${job.name}`);
        try {
          await writeArchive(job.format, job.path, job.entries, ctx.signal, (n) => progress.add(n));
        } catch (err) {
          throw new RelsignError(`${job.where}: creating ${job.name} failed: ${describeFsError(err)}`, { cause: err });
        }
      });
    } finally {
      progress.end();
    }
    for (const u of uploadables) ctx.artifacts.add(u);
    for (const job of jobs) {
      const f = job.group.fields;
      const binarySources = new Set(job.group.binaries.map((b) => resolve(ctx.cwd, b.path)));
      ctx.artifacts.add({
        type: 'archive',
        name: job.name,
        path: job.path,
        id: job.archive.id,
        ...(f ? { os: f.os, arch: f.arch, target: f.target, ...(f.arm ? { arm: f.arm } : {}) } : {}),
        extra: {
          format: job.format,
          wrappedIn: job.wrap,
          builds: [...new Set(job.group.binaries.map((b) => b.id).filter(Boolean))],
          binaries: job.entries.filter((e) => binarySources.has(e.src) && e.mode === BINARY_MODE).map((e) => e.dst),
          files: job.entries.map((e) => e.dst),
          ...(job.archive.meta ? { meta: true } : {}),
          ...(f && typeof f.extra.binary === 'string' && job.group.binaries.length === 1 ? { binary: f.extra.binary } : {}),
        },
      });
    }
  },
};

function checkName(name: string, names: Map<string, string>, where: string): void {
  if (names.has(name)) {
    throw new RelsignError(`${where}: archive named ${name} already exists. Check your archive name template (two artifacts would be uploaded as ${name})`);
  }
  names.set(name, where);
}

async function archiveEntries(
  ctx: Context,
  a: ArchiveConfig,
  where: string,
  group: Group,
  format: FileFormat,
  wrap: string,
): Promise<ArchiveEntry[]> {
  const prefix = (p: string) => (wrap ? `${wrap}/${p}` : p);
  const binaries: ArchiveEntry[] = [];
  for (const b of group.binaries) {
    const abs = resolve(ctx.cwd, b.path);
    const st = await stat(abs).catch(() => undefined);
    if (!st?.isFile()) throw new RelsignError(`${where}: binary ${b.path} of build ${b.id ?? '?'} is missing`);
    binaries.push({
      src: abs,
      dst: prefix(archivePath(b.name, `${where} (binary of build ${b.id ?? '?'})`)),
      mode: BINARY_MODE,
      mtime: ctx.git.commitDate,
      owner: '',
      group: '',
      stats: st,
    });
  }
  if (format === 'gz') {
    if (binaries.length !== 1) {
      throw new RelsignError(`${where}: the gz format holds one file, but ${group.key || 'this archive'} has ${binaries.length} binaries`);
    }
    if (a.files.length > 0) ctx.log.warn(`${where}.files: ignored for the gz format (it holds the binary only)`);
    return binaries;
  }
  const files = (await resolveFiles(ctx, a.files, `${where}.files`, group.fields)).map((e) => ({ ...e, dst: prefix(e.dst) }));
  if (a.meta && files.length === 0) throw new RelsignError(`${where}: meta archive has no files (no files found for ${where}.files)`);
  const byDst = new Map<string, ArchiveEntry>();
  for (const e of [...binaries, ...files]) {
    if (byDst.has(e.dst)) {
      ctx.log.warn(`${where}: ${e.dst} is already in the archive; keeping the first (binaries come first)`);
      continue;
    }
    byDst.set(e.dst, e);
  }
  return [...byDst.values()].sort((x, y) => (x.dst < y.dst ? -1 : x.dst > y.dst ? 1 : 0));
}
