import { resolve } from 'node:path';
import type { Context } from '../pipeline/context.js';
import { allTargets, configDigest, parseShard, runnerOs, selectTargets, splitId, type SplitSelection } from '../pipeline/split.js';
import type { Stage } from '../pipeline/stage.js';
import { setSplitRun, splitStages } from '../stages/split.js';
import { UsageError } from '../util/errors.js';
import type { ReleaseFlags } from './commands/release.js';

/**
 * Works out which targets this split builds and points the run at
 * dist/<split-id>/. The config digest is taken here, before any stage
 * renders or changes the config.
 */
export function selectionFromFlags(flags: ReleaseFlags, env: Record<string, string | undefined>): SplitSelection {
  if (flags.targets !== undefined) {
    if (flags.shard !== undefined) throw new UsageError('--targets and --shard are exclusive');
    const targets = flags.targets.split(',').map((t) => t.trim()).filter(Boolean);
    if (targets.length === 0) throw new UsageError('--targets: give at least one target, e.g. linux_amd64');
    return { by: 'targets', targets };
  }
  const by = flags.splitBy ?? (env.RELSIGN_SPLIT_BY || 'os');
  const source = flags.splitBy !== undefined ? '--split-by' : 'RELSIGN_SPLIT_BY';
  if (by === 'os') {
    if (flags.shard !== undefined) throw new UsageError('--shard needs --split-by target');
    return { by: 'os', os: runnerOs() };
  }
  if (by === 'target') {
    if (flags.shard === undefined) throw new UsageError('--split-by target needs --shard N/M (e.g. --shard 2/5)');
    return { by: 'shard', ...parseShard(flags.shard) };
  }
  throw new UsageError(`${source}: ${JSON.stringify(by.slice(0, 40))} is not allowed; valid options are os, target`);
}

export function prepareSplit(ctx: Context, flags: ReleaseFlags): Stage[] {
  if (flags.draft) throw new UsageError('--draft has no effect with --split (a split publishes nothing); pass it to `relsign continue --merge`');
  const sel = selectionFromFlags(flags, ctx.env);
  const digest = configDigest(ctx.config);
  const targets = selectTargets(ctx.config, sel);
  if (targets.length === 0) {
    const what = sel.by === 'os' ? `for this runner's os (${sel.os})` : 'in this shard';
    throw new UsageError(`--split: no configured target ${what}; configured: ${allTargets(ctx.config).join(', ')}`);
  }
  const id = splitId(sel, flags.splitId);
  ctx.distDir = resolve(ctx.distDir, id);
  ctx.options = { ...ctx.options, targets: new Set(targets), phase: 'split' };
  setSplitRun(ctx, { id, targets, digest });
  return splitStages();
}
