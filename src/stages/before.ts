import { runHooks } from '../pipeline/hooks.js';
import type { Stage } from '../pipeline/stage.js';

export const beforeStage: Stage = {
  name: 'before',
  description: 'running before hooks',
  skip: (ctx) =>
    ctx.options.skip.has('before') ? '--skip before' : ctx.config.before.hooks.length === 0 ? 'no hooks' : false,
  run: (ctx) => runHooks(ctx, ctx.config.before.hooks, 'before.hooks'),
};
