import type { Context } from './context.js';

/**
 * One step of the release pipeline (GoReleaser calls these pipes). Stages
 * communicate only through the context and its artifact registry.
 */
export interface Stage {
  /** Short name shown in the log, and the word `--skip` takes where it applies. */
  readonly name: string;
  /** Human description for the progress line. */
  readonly description: string;
  /** Returns a reason to skip (shown in the log), or false to run. */
  skip(ctx: Context): string | false;
  run(ctx: Context): Promise<void>;
}
