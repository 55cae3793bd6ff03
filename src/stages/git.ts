import { parseSemver, readGitInfo, repoFromUrl, SHALLOW_CLONE_HINT } from '../git/index.js';
import type { Stage } from '../pipeline/stage.js';
import { render } from '../pipeline/template-data.js';
import { RelsignError } from '../util/errors.js';

/** Reads tag, commit, dates and state; derives .Version (and the snapshot version). */
export const gitStage: Stage = {
  name: 'git',
  description: 'reading git state',
  skip: () => false,
  async run(ctx) {
    ctx.git = await readGitInfo({ cwd: ctx.cwd, env: ctx.env, snapshot: ctx.options.snapshot, signal: ctx.signal });
    if (ctx.git.shallow) {
      const previous = ctx.git.previousTag ? `previous tag ${ctx.git.previousTag} (from RELSIGN_PREVIOUS_TAG)` : 'previous tag unknown';
      ctx.log.warn(`git: shallow clone, ${previous}; ${SHALLOW_CLONE_HINT}`);
    }
    const semver = parseSemver(ctx.git.tag);
    if (!semver) {
      if (!ctx.options.snapshot && !ctx.options.skip.has('validate')) {
        throw new RelsignError(`failed to parse tag '${ctx.git.tag}' as semver (expected v1.2.3 or 1.2.3-rc.1)`);
      }
      ctx.log.warn(`tag '${ctx.git.tag}' is not semver; .Major/.Minor/.Patch are 0`);
    } else {
      ctx.semver = semver;
    }
    ctx.version = ctx.git.tag.replace(/^v/, '');

    if (ctx.rawConfig?.project_name === undefined) {
      const fromRemote = repoFromUrl(ctx.git.url)?.name;
      if (fromRemote) ctx.config.project_name = fromRemote;
    }

    if (ctx.options.snapshot) {
      const v = render(ctx, ctx.config.snapshot.version_template, 'snapshot.version_template').trim();
      if (!v) throw new RelsignError('snapshot.version_template rendered an empty version');
      ctx.version = v;
    }
    const state = ctx.git.dirty ? ', dirty' : '';
    ctx.log.info(`  ${ctx.config.project_name} ${ctx.version} (tag ${ctx.git.tag}, commit ${ctx.git.shortCommit}${state})`);
  },
};
