import { rm, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { execa } from 'execa';
import type { SignConfig } from '../../config/types.js';
import type { Context } from '../../pipeline/context.js';
import { renderFlag } from '../../pipeline/template-data.js';
import { abortReason, RelsignError } from '../../util/errors.js';
import type { SignResolver } from './resolve.js';

export interface SignOutputs {
  signature?: string;
  certificate?: string;
  bundle?: string;
}

/**
 * Runs an external signer (gpg, cosign, minisign, a script) for one artifact,
 * without a shell. Unlike GoReleaser, the files it was told to write are
 * checked right away, so a signer that writes elsewhere (cosign v3 --bundle
 * with the default signature name) fails here, not at upload time.
 */
export async function signWithCommand(ctx: Context, cfg: SignConfig, where: string, r: SignResolver): Promise<SignOutputs> {
  const file = cfg.cmd!;
  const args = cfg.args.map((a, i) => r.apply(a, `args[${i}]`));
  let input: string | undefined;
  if (cfg.stdin !== undefined) {
    input = r.apply(cfg.stdin, 'stdin');
    ctx.redactor.add(input);
  }
  for (const [k, v] of Object.entries(r.env)) ctx.redactor.addEnv(k, v);

  const shown = ctx.redactor.redact([file, ...args].join(' '));
  const showOutput = ctx.log.verbose || renderFlag(ctx, cfg.output, `${where}.output`, { env: r.env });
  ctx.log.debug(`${where}: ${shown}`);
  // The signer writes its outputs itself, so a failed or interrupted run may leave
  // a partial file under the final name: those declared outputs are removed.
  const declared = [r.vars.signature, r.vars.certificate].filter((p): p is string => !!p).map((p) => resolve(ctx.cwd, p));
  const subprocess = execa(file, args, {
    cwd: ctx.cwd,
    env: r.env,
    extendEnv: false,
    reject: false,
    all: true,
    // Its own process group, so an interrupt stops the whole tree (a script's children too).
    detached: true,
    ...(input !== undefined
      ? { input }
      : cfg.stdin_file
        ? { inputFile: resolve(ctx.cwd, cfg.stdin_file) }
        : { stdin: 'ignore' as const }),
  });
  const result = await untilDoneOrAborted(subprocess, ctx.signal);
  if (ctx.signal.aborted) {
    await removeAll(declared);
    throw abortReason(ctx.signal);
  }
  if (result.failed) await removeAll(declared);
  const output = ctx.redactor.redact(String(result.all ?? '').trimEnd());
  if (output && showOutput) for (const line of output.split('\n')) ctx.log.info(`    ${line}`);
  if (result.failed) {
    const code = (result as { code?: string }).code;
    if (code === 'ENOENT' && cfg.stdin_file && !(await exists(resolve(ctx.cwd, cfg.stdin_file)))) {
      throw new RelsignError(`${where}.stdin_file: cannot open ${cfg.stdin_file}`);
    }
    if (!showOutput && output) for (const line of output.split('\n').slice(-15)) ctx.log.error(`    ${line}`);
    const why = code === 'ENOENT' ? `command not found: ${file}` : `exit code ${result.exitCode ?? result.signal}`;
    throw new RelsignError(`${where}: signing ${r.artifact.path} failed (${why}): ${shown}`);
  }
  const outputs: SignOutputs = {};
  if (r.vars.signature) {
    await requireFile(ctx, r.vars.signature, `${where}: ${shown} exited 0 but wrote no signature at ${r.vars.signature} (for ${r.artifact.path}); set signature: to the file your signer writes`);
    outputs.signature = r.vars.signature;
  }
  if (r.vars.certificate) {
    await requireFile(ctx, r.vars.certificate, `${where}: ${shown} exited 0 but wrote no certificate at ${r.vars.certificate} (for ${r.artifact.path}); remove certificate: if your signer writes none`);
    outputs.certificate = r.vars.certificate;
  }
  return outputs;
}

/** Grace period between SIGTERM and SIGKILL for an interrupted signer's process group. */
const KILL_GRACE_MS = 2000;

/** Waits for the signer; on abort, SIGTERM its process group, then SIGKILL if it lingers. */
async function untilDoneOrAborted<T>(subprocess: Promise<T> & { pid?: number }, signal: AbortSignal): Promise<T> {
  let force: NodeJS.Timeout | undefined;
  const killGroup = (sig: NodeJS.Signals): void => {
    if (subprocess.pid === undefined) return;
    try {
      process.kill(-subprocess.pid, sig);
    } catch {
      // already gone
    }
  };
  const onAbort = (): void => {
    killGroup('SIGTERM');
    force = setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS);
    force.unref();
  };
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  try {
    return await subprocess;
  } finally {
    signal.removeEventListener('abort', onAbort);
    if (force) clearTimeout(force);
    // The leader has exited; make sure nothing it started keeps writing.
    if (signal.aborted) killGroup('SIGKILL');
  }
}

async function removeAll(paths: readonly string[]): Promise<void> {
  await Promise.all(paths.map((p) => rm(p, { force: true })));
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

async function requireFile(ctx: Context, path: string, message: string): Promise<void> {
  const s = await stat(resolve(ctx.cwd, path)).catch(() => undefined);
  if (!s || !s.isFile() || s.size === 0) throw new RelsignError(s && s.size === 0 ? message.replace('wrote no', 'wrote an empty') : message);
}
