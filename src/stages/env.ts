import type { Context } from '../pipeline/context.js';
import type { Stage } from '../pipeline/stage.js';
import { registerConfiguredSecrets } from '../pipeline/secrets.js';
import { render } from '../pipeline/template-data.js';
import { fieldsUsed } from '../template/index.js';
import { RelsignError } from '../util/errors.js';

/** Template fields whose values come from git (or the version derived from it). */
const GIT_FIELDS = new Set([
  'Tag', 'PreviousTag', 'Version', 'RawVersion', 'Major', 'Minor', 'Patch', 'Prerelease', 'Branch', 'FullCommit',
  'Commit', 'ShortCommit', 'CommitDate', 'CommitTimestamp', 'IsGitDirty', 'IsGitClean', 'GitTreeState', 'GitURL',
  'Summary', 'ProjectName',
]);

/** Index of the first `env:` entry rendered after git is read, per run. */
const deferredFrom = new WeakMap<Context, number>();

function usesGitField(text: string): boolean {
  try {
    return fieldsUsed(text).some((path) => path.length > 0 && GIT_FIELDS.has(path[0]!));
  } catch {
    return false; // a bad template is reported when it is rendered
  }
}

function renderEntries(ctx: Context, from: number, to: number): void {
  for (let i = from; i < to; i++) {
    const entry = ctx.config.env[i]!;
    const eq = entry.indexOf('=');
    if (eq <= 0) throw new RelsignError(`env[${i}]: expected KEY=VALUE, got ${JSON.stringify(entry)}`);
    ctx.env[entry.slice(0, eq)] = render(ctx, entry.slice(eq + 1), `env[${i}]`);
  }
  ctx.redactor.addFromEnv(ctx.env);
  registerConfiguredSecrets(ctx);
}

/**
 * Merges the config's `env:` (KEY=template, each seeing the ones before it)
 * into the run's environment. Entries up to the first one that reads a git
 * field (`{{ .Tag }}`, `{{ .CommitDate }}`…) are rendered before git is read,
 * so they can set RELSIGN_CURRENT_TAG; that entry and the ones after it are
 * rendered once git is read (envAfterGitStage), never with placeholder values.
 */
export const envStage: Stage = {
  name: 'env',
  description: 'loading environment',
  skip: (ctx) => (ctx.config.env.length === 0 ? 'no env in config' : false),
  async run(ctx) {
    let split = ctx.config.env.findIndex((entry) => usesGitField(entry.slice(entry.indexOf('=') + 1)));
    if (split < 0) split = ctx.config.env.length;
    deferredFrom.set(ctx, split);
    renderEntries(ctx, 0, split);
  },
};

export const envAfterGitStage: Stage = {
  name: 'env-git',
  description: 'loading environment that reads git fields',
  skip: (ctx) => ((deferredFrom.get(ctx) ?? ctx.config.env.length) >= ctx.config.env.length ? 'no env reads git fields' : false),
  async run(ctx) {
    renderEntries(ctx, deferredFrom.get(ctx)!, ctx.config.env.length);
  },
};
