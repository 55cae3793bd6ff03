import { stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { UPLOADABLE_TYPES, type Artifact } from '../pipeline/artifacts.js';
import { checkArtifactName } from '../pipeline/artifact-name.js';
import type { Context } from '../pipeline/context.js';
import { ByteProgress, progressOutput } from '../pipeline/progress.js';
import type { Stage } from '../pipeline/stage.js';
import { render } from '../pipeline/template-data.js';
import { mapLimit } from '../util/concurrency.js';
import { RelsignError } from '../util/errors.js';
import { describeFsError, hashFile, writeFileAtomic } from '../util/fs.js';
import { globInProject } from '../util/glob.js';

/** What goes into checksums: everything uploadable except checksums and the signing outputs. */
export const CHECKSUMMED_TYPES = UPLOADABLE_TYPES.filter((t) => t !== 'checksum' && t !== 'signature' && t !== 'certificate');

/**
 * checksum: one `<hex>  <name>` line per artifact, sorted by name (what
 * `sha256sum -c` reads), or with `split` one `<name>.<algo>` file per artifact.
 * Written once, atomically; signing runs after and never changes it.
 */
export const checksumStage: Stage = {
  name: 'checksum',
  description: 'calculating checksums',
  skip(ctx) {
    return ctx.config.checksum.disable ? 'checksum.disable is set' : false;
  },
  async run(ctx) {
    const cfg = ctx.config.checksum;
    const algo = cfg.algorithm;
    const inputs = ctx.artifacts.filter({ types: CHECKSUMMED_TYPES, ids: cfg.ids });
    const extra = await extraFiles(ctx);
    // extra_files are only checksummed (as in GoReleaser): they are not registered, so the
    // release does not upload them unless release.extra_files says so.
    const all: Artifact[] = [...inputs];
    for (const e of extra) {
      const existing = all.find((a) => a.name === e.name);
      if (existing && existing.type !== 'file') throw new RelsignError(`checksum.extra_files: ${e.name} has the same name as an artifact`);
      if (existing) {
        ctx.log.warn(`checksum.extra_files: ${e.name} matched twice; keeping the last`);
        all.splice(all.indexOf(existing), 1);
      }
      all.push(e);
    }
    if (all.length === 0) {
      if (cfg.split) throw new RelsignError('checksum: there are no artifacts to checksum');
      ctx.log.info('  no artifacts to checksum');
      return;
    }
    const names = new Set<string>();
    for (const a of all) {
      if (names.has(a.name)) throw new RelsignError(`checksum: two artifacts are named ${a.name}; asset names must be unique`);
      names.add(a.name);
    }
    // Sizes for the progress total only: a file that cannot be read fails in hashFile, with its name.
    const sizes = await Promise.all(all.map((a) => stat(resolve(ctx.cwd, a.path)).then((st) => st.size, () => 0)));
    const progress = new ByteProgress('hashing', sizes.reduce((n, x) => n + x, 0), progressOutput(ctx.log));
    let sums: string[];
    try {
      sums = await mapLimit(all, ctx.options.parallelism, async (a) => {
        const abs = resolve(ctx.cwd, a.path);
        try {
          return await hashFile(abs, algo, (n) => progress.add(n));
        } catch (err) {
          throw new RelsignError(`checksum: cannot read ${a.path} (${a.name}): ${describeFsError(err)}`, { cause: err });
        }
      });
    } finally {
      progress.end();
    }
    all.forEach((a, i) => {
      a.extra.checksum = `${algo}:${sums[i]}`;
    });

    if (cfg.split) {
      const made = new Set<string>();
      for (const [i, a] of all.entries()) {
        const name = render(ctx, cfg.name_template, 'checksum.name_template', { artifact: a, extra: { Algorithm: algo } });
        checkArtifactName(name, 'checksum.name_template');
        if (made.has(name) || names.has(name)) {
          throw new RelsignError(`checksum.name_template: ${JSON.stringify(name)} is not a unique file name (for ${a.name}); include {{ .ArtifactName }}`);
        }
        made.add(name);
        const path = join(ctx.distDir, name);
        await writeOutput(path, sums[i]!, 'checksum.name_template');
        ctx.artifacts.add({ type: 'checksum', name, path, extra: { algorithm: algo, for: a.name } });
      }
      return;
    }

    const name = render(ctx, cfg.name_template, 'checksum.name_template', { extra: { Algorithm: algo } });
    checkArtifactName(name, 'checksum.name_template');
    if (names.has(name)) throw new RelsignError(`checksum.name_template: ${name} is also the name of an artifact`);
    const lines = all
      .map((a, i) => ({ name: a.name, hex: sums[i]! }))
      .sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0))
      .map((l) => `${l.hex}  ${l.name}\n`);
    const path = join(ctx.distDir, name);
    await writeOutput(path, lines.join(''), 'checksum.name_template');
    ctx.artifacts.add({ type: 'checksum', name, path, extra: { algorithm: algo, files: all.length } });
  },
};

/** checksum.extra_files as unregistered `file` artifacts (name + path). Directories are skipped. */
async function extraFiles(ctx: Context): Promise<Artifact[]> {
  const out: Artifact[] = [];
  for (const [i, f] of ctx.config.checksum.extra_files.entries()) {
    const where = `checksum.extra_files[${i}]`;
    const spec = typeof f === 'string' ? { glob: f } : f;
    const glob = render(ctx, spec.glob, `${where}.glob`);
    const matches = await globInProject(ctx.cwd, glob, `${where}.glob`, { dot: true });
    if (matches.length === 0) throw new RelsignError(`${where}.glob: no files matched ${JSON.stringify(glob)}`);
    if (spec.name_template !== undefined && matches.length !== 1) {
      throw new RelsignError(`${where}: name_template needs the glob to match exactly one file, got ${matches.length}`);
    }
    for (const m of matches) {
      if (!(await stat(m.real)).isFile()) continue;
      const name = spec.name_template !== undefined ? render(ctx, spec.name_template, `${where}.name_template`) : basename(m.match);
      checkArtifactName(name, spec.name_template !== undefined ? `${where}.name_template` : `${where}.glob`);
      out.push({ type: 'file', name, path: m.real, extra: { source: 'checksum.extra_files' } });
    }
  }
  return out;
}

/** Writes a checksum file atomically; a failure is one line naming the file and the setting that named it. */
async function writeOutput(path: string, text: string, where: string): Promise<void> {
  try {
    await writeFileAtomic(path, text);
  } catch (err) {
    throw new RelsignError(`${where}: cannot write ${basename(path)}: ${describeFsError(err)}`, { cause: err });
  }
}
