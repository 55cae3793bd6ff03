import { RelsignError } from '../util/errors.js';
import type { Context } from './context.js';
import type { Stage } from './stage.js';

export interface StageTiming {
  name: string;
  status: 'ok' | 'skipped' | 'failed';
  ms: number;
  reason?: string;
}

/**
 * Runs stages in order. One progress line per stage with its timing; a skipped
 * stage says why. Stops at the first failure (the error names the stage) or
 * when the context's signal aborts (Ctrl-C, --timeout).
 */
export async function runStages(ctx: Context, stages: readonly Stage[]): Promise<StageTiming[]> {
  const timings: StageTiming[] = [];
  for (const stage of stages) {
    throwIfAborted(ctx);
    const reason = stage.skip(ctx);
    if (reason !== false) {
      ctx.log.debug(`${stage.description}: skipped (${reason})`);
      timings.push({ name: stage.name, status: 'skipped', ms: 0, reason });
      continue;
    }
    const started = performance.now();
    ctx.log.info(`• ${stage.description}`);
    try {
      await stage.run(ctx);
    } catch (err) {
      const ms = performance.now() - started;
      timings.push({ name: stage.name, status: 'failed', ms });
      // A stage may add detail to the interrupt (e.g. which draft holds a partial release).
      if (ctx.signal.aborted && err instanceof RelsignError && err.cause !== undefined && err.cause === ctx.signal.reason) throw err;
      throwIfAborted(ctx);
      if (err instanceof RelsignError) throw err;
      throw new RelsignError(`${stage.name}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    const ms = performance.now() - started;
    timings.push({ name: stage.name, status: 'ok', ms });
    if (ms >= 50) ctx.log.info(`  ${stage.name} done in ${formatDuration(ms)}`);
  }
  return timings;
}

function throwIfAborted(ctx: Context): void {
  if (!ctx.signal.aborted) return;
  const reason: unknown = ctx.signal.reason;
  if (reason instanceof RelsignError) throw reason;
  throw new RelsignError('interrupted', { exitCode: 130 });
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const m = Math.floor(ms / 60_000);
  return `${m}m${Math.round((ms % 60_000) / 1000)}s`;
}

/** `30s`, `10m`, `1h30m`, `1500ms` — Go's time.ParseDuration subset, as --timeout takes. */
export function parseDuration(text: string): number | undefined {
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    const n = Number(m[1]);
    total += n * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
    matched = re.lastIndex;
  }
  return matched === text.length && text.length > 0 ? total : undefined;
}
