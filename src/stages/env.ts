import type { Stage } from '../pipeline/stage.js';
import { registerConfiguredSecrets } from '../pipeline/secrets.js';
import { render } from '../pipeline/template-data.js';
import { RelsignError } from '../util/errors.js';

/** Merges the config's `env:` (KEY=template, each seeing the ones before it) into the run's environment. */
export const envStage: Stage = {
  name: 'env',
  description: 'loading environment',
  skip: (ctx) => (ctx.config.env.length === 0 ? 'no env in config' : false),
  async run(ctx) {
    ctx.config.env.forEach((entry, i) => {
      const eq = entry.indexOf('=');
      if (eq <= 0) throw new RelsignError(`env[${i}]: expected KEY=VALUE, got ${JSON.stringify(entry)}`);
      const key = entry.slice(0, eq);
      ctx.env[key] = render(ctx, entry.slice(eq + 1), `env[${i}]`);
    });
    ctx.redactor.addFromEnv(ctx.env);
    registerConfiguredSecrets(ctx);
  },
};
