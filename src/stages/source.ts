import { rename, rm, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { execa } from 'execa';
import { isSkipped } from '../pipeline/context.js';
import type { Stage } from '../pipeline/stage.js';
import { checkArtifactName } from '../pipeline/artifact-name.js';
import { render } from '../pipeline/template-data.js';
import { RelsignError } from '../util/errors.js';
import { describeFsError, tempPathFor } from '../util/fs.js';

const FORMATS = ['tar.gz', 'tgz', 'tar', 'zip'] as const;

/**
 * source: `git archive` of the released commit (GoReleaser's source pipe).
 * git writes the entries with the commit time, so the archive is the same
 * for the same commit.
 */
export const sourceStage: Stage = {
  name: 'source',
  description: 'creating the source archive',
  skip(ctx) {
    if (isSkipped(ctx, 'archive')) return '--skip=archive';
    return ctx.config.source.enabled ? false : 'source.enabled is false';
  },
  async run(ctx) {
    const cfg = ctx.config.source;
    if (!(FORMATS as readonly string[]).includes(cfg.format)) {
      throw new RelsignError(`source.format: ${JSON.stringify(cfg.format)} is not one of ${FORMATS.join(', ')}`);
    }
    const base = render(ctx, cfg.name_template, 'source.name_template');
    if (!base) throw new RelsignError('source.name_template: rendered to an empty name');
    const name = checkArtifactName(`${base}.${cfg.format}`, 'source.name_template');
    const path = join(ctx.distDir, name);
    if (await stat(path).catch(() => undefined)) {
      throw new RelsignError(`source.name_template: ${name} already exists in dist. Check your source name template`);
    }
    if (ctx.artifacts.list().some((a) => a.name === name)) {
      throw new RelsignError(`source.name_template: another artifact is already named ${name}`);
    }
    const args = ['archive', `--format=${cfg.format}`];
    if (cfg.prefix_template) {
      let prefix = render(ctx, cfg.prefix_template, 'source.prefix_template');
      if (prefix.startsWith('/') || prefix.split('/').includes('..')) {
        throw new RelsignError(`source.prefix_template: ${JSON.stringify(prefix)} escapes the archive root`);
      }
      // git treats the prefix literally: `app-1.0` would glue onto every path, so make it a folder.
      if (prefix && !prefix.endsWith('/')) prefix += '/';
      if (prefix) args.push(`--prefix=${prefix}`);
    }
    const tmp = tempPathFor(path);
    args.push('-o', tmp, ctx.git.fullCommit);
    ctx.log.info(`  git ${args.join(' ')}`.replace(tmp, relative(ctx.cwd, path)));
    const r = await execa('git', args, { cwd: ctx.cwd, reject: false, all: true, stdin: 'ignore', cancelSignal: ctx.signal });
    if (r.failed) {
      await rm(tmp, { force: true });
      const why = String(r.all ?? '').trim().split('\n').slice(-3).join('; ') || `exit code ${r.exitCode}`;
      throw new RelsignError(`source: git archive of ${ctx.git.fullCommit} failed: ${why}`);
    }
    try {
      await rename(tmp, path);
    } catch (err) {
      await rm(tmp, { force: true }).catch(() => undefined);
      throw new RelsignError(`source: cannot write ${name}: ${describeFsError(err)}`, { cause: err });
    }
    ctx.artifacts.add({ type: 'source', name, path, extra: { format: cfg.format } });
  },
};
