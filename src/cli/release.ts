import { resolve } from 'node:path';
import { loadConfig } from '../config/load.js';
import { createContext } from '../pipeline/context.js';
import { registerConfiguredSecrets } from '../pipeline/secrets.js';
import { Logger } from '../pipeline/logger.js';
import { formatDuration, parseDuration, runStages } from '../pipeline/runner.js';
import { releaseStages } from '../stages/index.js';
import type { Stage } from '../pipeline/stage.js';
import { RelsignError, UsageError } from '../util/errors.js';
import { Redactor } from '../util/redact.js';
import type { ReleaseFlags } from './commands/release.js';
import { setErrorRedactor } from './main.js';

/**
 * The longest --timeout: 24 days. Node's timers hold at most 2^31-1 ms
 * (about 24.8 days) and fire at once beyond that, so a longer timeout is a
 * usage error rather than a run that times out immediately.
 */
export const MAX_TIMEOUT_MS = 24 * 24 * 3_600_000;

/**
 * `relsign release`: load config, build the context, run the stages. Ctrl-C
 * and --timeout abort the context's signal; stages pass it to child processes
 * and requests, so nothing keeps running behind a failed release.
 */
export async function runRelease(flags: ReleaseFlags, mode: 'release' | 'merge' | 'preflight' = 'release'): Promise<number> {
  const timeoutMs = parseDuration(flags.timeout);
  if (timeoutMs === undefined || timeoutMs <= 0) {
    throw new UsageError(`--timeout: invalid duration ${JSON.stringify(flags.timeout)} (use e.g. 30s, 10m, 1h)`);
  }
  if (timeoutMs > MAX_TIMEOUT_MS) {
    throw new UsageError(`--timeout: ${flags.timeout} is longer than the longest supported timeout, 576h (24 days)`);
  }
  if (!flags.split && mode === 'release') {
    const stray = (['targets', 'splitBy', 'shard', 'splitId'] as const).find((k) => flags[k] !== undefined);
    if (stray) throw new UsageError(`--${stray.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} needs --split`);
  }
  const redactor = new Redactor();
  redactor.addFromEnv(process.env);
  setErrorRedactor(redactor);
  const log = new Logger({ json: flags.json, verbose: flags.verbose, redactor });

  const cwd = process.cwd();
  const loaded = await loadConfig({ cwd, configPath: flags.config });

  const skip = new Set(flags.skip);
  if (flags.snapshot) for (const s of ['publish', 'validate', 'announce']) skip.add(s);
  if (skip.has('publish')) skip.add('announce');

  const controller = new AbortController();
  // `on`, not `once`: execa's exit hook (signal-exit) re-raises the signal when it
  // finds itself the only listener, which would kill us before we clean up.
  // A second Ctrl-C while stopping exits at once.
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort(new RelsignError('interrupted (Ctrl-C); the release was not completed', { exitCode: 130 }));
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  const timer = setTimeout(
    () => controller.abort(new RelsignError(`timed out after ${flags.timeout} (--timeout)`)),
    timeoutMs,
  );
  timer.unref();

  const ctx = createContext({
    cwd: resolve(loaded.projectDir),
    config: loaded.config,
    rawConfig: loaded.source.data as Record<string, unknown>,
    configPath: loaded.source.filepath,
    log,
    redactor,
    signal: controller.signal,
    env: { ...(process.env as Record<string, string>) },
    options: {
      snapshot: flags.snapshot,
      clean: flags.clean,
      skip,
      parallelism: flags.parallelism,
      timeoutMs,
      draft: flags.draft,
      releaseNotes: flags.releaseNotes,
      failFast: flags.failFast,
    },
  });

  let stages: Stage[];
  let title = `relsign release${flags.snapshot ? ' (snapshot)' : ''}`;
  if (mode === 'merge') {
    stages = (await import('../stages/split.js')).mergeStages();
    ctx.options = { ...ctx.options, phase: 'merge' };
    title = 'relsign continue --merge';
  } else if (flags.split) {
    const { prepareSplit } = await import('./split.js');
    stages = prepareSplit(ctx, flags);
    title += ' --split';
  } else {
    stages = releaseStages();
  }

  // Before any stage runs: a before hook may print a value a signer setting reads.
  registerConfiguredSecrets(ctx);

  const started = performance.now();
  log.info(`${title} using ${loaded.source.displayName}`);
  try {
    // `relsign check --preflight`: everything up to and including the preflight, nothing built.
    await runStages(ctx, mode === 'preflight' ? stages.slice(0, stages.findIndex((s) => s.name === 'preflight') + 1) : stages);
  } finally {
    clearTimeout(timer);
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
  }
  if (mode === 'preflight') {
    log.info(`preflight passed after ${formatDuration(performance.now() - started)}`);
    return 0;
  }
  log.info(`${mode === 'merge' ? 'merge' : flags.split ? 'split' : 'release'} succeeded after ${formatDuration(performance.now() - started)}`);
  return 0;
}
